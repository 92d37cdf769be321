import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'

const VIEWS = 80
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/**
 * Attack (malicious host, or any owner-route caller while governance is down or slow; issue 12 stage B): the signer
 * keeps each view it sent until its decision comes (up to 1,024, one per wallet named). The act is not verified
 * before the view is made (governance verifies it), so unsigned acts naming 200 made-up wallets, each with the
 * largest policy text (256 KiB of control characters: ~1.5 MiB once escaped in the view), are 200 outstanding views.
 * Kept whole (the view's bytes and the act's text) they held ~2 MiB each in the signer (1,024 of them: ~2 GiB, past
 * an enclave's memory). The signer keeps only hashes of what it checks: its memory stays flat.
 */
describe('adversarial: the host fills the signer\'s outstanding views with large unsigned acts (real signer)', () => {
  const s = hostWithWalletPerFile()

  it(`${VIEWS} large unsigned acts awaiting decisions grow the signer's RSS by far less than their views`, async () => {
    const { host } = s
    const pid = host.proc!.pid!
    const policy = '\u0001'.repeat(256 * 1024)
    const send = (i: number) => host.callSigner({ type: 'ownerAct', primaryType: 'SetPolicy', message: JSON.stringify({ wallet: `0x${String(i).padStart(40, '0')}` }), signature: '0x', policy })
    // Warm up: as many acts naming one wallet (each replaces the last: one view waits) grow the heap to hold their garbage.
    for (let i = 0; i < VIEWS; i++) expect((await send(0)).ok).toBe(true)
    const before = rssMb(pid)
    let viewBytes = 0
    for (let i = 1; i <= VIEWS; i++) {
      const r = await send(i)
      expect(r.ok).toBe(true)
      viewBytes += (r as { result: { view: Uint8Array } }).result.view.length
    }
    const grown = rssMb(pid) - before
    expect(viewBytes / 2 ** 20).toBeGreaterThan(VIEWS) // each view is over 1 MiB
    expect(grown).toBeLessThan(viewBytes / 2 ** 20 / 2)
  })
})
