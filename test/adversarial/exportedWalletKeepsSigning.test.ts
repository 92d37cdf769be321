import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { HostRequestError } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { sealToX25519, x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { auditEntries, eip3009, paymentPolicy, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import { simClock } from '../helpers/simClock.js'

/**
 * Far longer than the CLI runs before it falls due (each spawns a process: seconds on a loaded machine; a real 12 s
 * lock raced them); the test moves the clock, it does not wait. The enclave, this process and the CLI runs share it.
 */
const DELAY_S = 300
const clock = simClock()
const until = (t: number) => clock.advanceTo(t)

/** Every file under a directory, as bytes (the host's SQLite store, sealed blobs, anything it wrote). */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n)
    const st = statSync(p)
    return st.isDirectory() ? filesUnder(p) : st.isFile() ? [readFileSync(p)] : []
  })
}

/**
 * Attack: the wallet keeps signing after its owners took the key out (non-custodial exit), or the exit leaks the key
 * to the host, or lets it out before the wallet's time lock. Through the real host, enclave and CLI: the export needs
 * the strictest quorum (2 of 3 here), waits out the delay (collecting it earlier is refused, the agent still signs),
 * then gives a sealed key only the owners' X25519 secret opens — to the wallet's own address — while the host's
 * store, logs and audit rows hold no key; every later signing request is refused (`wallet_exported`) until the owners
 * re-import the key, and an imported key signs as a new wallet (viem verifies).
 */
describe('adversarial: an exported wallet keeps signing', () => {
  let q: QuorumWallet
  let exitKey: string
  let walletKeyFile: string
  const pay = async (wallet: Hex, agentKey: AgentKey): Promise<{ ok: boolean; code?: string }> => {
    const operation = eip3009({ wallet, value: 500n })
    try {
      const r = await requestSignature({ host: q.stack.url, agentKey, wallet, operation })
      return { ok: await verifyEip3009(wallet, operation, r.signature as Hex) }
    } catch (e) {
      return { ok: false, code: (e as { code?: string }).code }
    }
  }
  const json = (s: string) => JSON.parse(s) as Record<string, any>

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'exit', delaySeconds: DELAY_S, env: clock.env, cliEnv: clock.cliEnv })
    exitKey = path.join(q.dir, 'exit.key')
    walletKeyFile = path.join(q.dir, 'wallet.key')
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
    clock.restore()
  })

  it('strictest quorum, then the time lock, then a key only the owners open; nothing more is signed', async () => {
    const gen = await q.cli(2, ['exit-key', 'generate', '--out', exitKey, '--json'])
    expect(gen.code, gen.stderr).toBe(0)
    const pub = `${exitKey}.pub`
    const one = await q.cli(0, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--json'])
    expect(one.code, one.stdout + one.stderr).toBe(0)
    const proposal = json(one.stdout).proposal
    expect(proposal).toMatchObject({ act: 'ExportKey', threshold: 2, signers: [q.owners[0]!.address] })
    expect((await q.clients[1]!.wallet(q.wallet)).exit ?? null).toBeNull()
    const two = await q.cli(1, ['proposals', 'sign', '--wallet', q.wallet, proposal.actHash, '--json'])
    expect(two.code, two.stdout + two.stderr).toBe(0)
    const { effectiveAt } = json(two.stdout).scheduled
    expect(effectiveAt).toBeGreaterThan(Date.now() + (DELAY_S - 60) * 1000)
    expect(effectiveAt).toBeLessThanOrEqual(Date.now() + DELAY_S * 1000)
    // Before the time lock: collecting is refused (a typed code) and the agent still signs.
    const early = await q.cli(2, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--json'])
    expect(early.code).toBe(1)
    expect(json(early.stdout).error.code).toBe('export_time_locked')
    expect(await pay(q.wallet, q.agentKey)).toEqual({ ok: true })
    const listed = await q.cli(0, ['scheduled', 'list', '--wallet', q.wallet])
    expect(listed.stdout).toContain('key exit of')
    // Still locked shortly before it falls due (enclave time; wall time between here and the checks stays below 60 s).
    clock.advanceTo(effectiveAt, -60_000)
    const late = await q.cli(1, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--json'])
    expect(json(late.stdout).error.code).toBe('export_time_locked')
    expect(await pay(q.wallet, q.agentKey)).toEqual({ ok: true })

    until(effectiveAt)
    // Due: the wallet signs nothing more, collected or not.
    expect(await pay(q.wallet, q.agentKey)).toEqual({ ok: false, code: 'wallet_exported' })
    const out = path.join(q.dir, 'export.json')
    const got = await q.cli(2, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--out', out, '--json'])
    expect(got.code, got.stdout + got.stderr).toBe(0)
    const file = json(readFileSync(out, 'utf8'))
    expect(file.address.toLowerCase()).toBe(q.wallet.toLowerCase())
    const dec = await q.cli(2, ['decrypt-export', out, '--key', exitKey, '--out', walletKeyFile, '--json'])
    expect(dec.code, dec.stdout + dec.stderr).toBe(0)
    const key = readFileSync(walletKeyFile, 'utf8').trim() as Hex
    expect(privateKeyToAddress(key).toLowerCase()).toBe(q.wallet.toLowerCase())
    // Another owner's X25519 key does not open it.
    const other = path.join(q.dir, 'other.key')
    await q.cli(0, ['exit-key', 'generate', '--out', other])
    const wrong = await q.cli(0, ['decrypt-export', out, '--key', other, '--out', path.join(q.dir, 'nope.key'), '--json'])
    expect(json(wrong.stdout).error.code).toBe('import_key_invalid')

    // The host saw ciphertext only: no file it wrote, no log line and no audit row holds the key.
    const raw = Buffer.from(key.slice(2), 'hex')
    for (const f of filesUnder(q.stack.dataDir)) {
      expect(f.includes(raw)).toBe(false)
      expect(f.toString('latin1').toLowerCase().includes(key.slice(2).toLowerCase())).toBe(false)
    }
    expect(q.stack.logs.join('\n').toLowerCase()).not.toContain(key.slice(2).toLowerCase())
    const audit = await auditEntries(q.stack.url, q.owners[0]!, { wallet: q.wallet })
    expect(JSON.stringify(audit).toLowerCase()).not.toContain(key.slice(2).toLowerCase())
    expect(audit.map((e) => e.event)).toEqual(expect.arrayContaining(['export_scheduled', 'wallet_exported']))
    // Still refused after the collection, and after an enclave restart (the exit is in the sealed state).
    await q.stack.stopEnclave()
    await q.stack.startEnclave()
    await q.stack.waitReady()
    expect(await pay(q.wallet, q.agentKey)).toEqual({ ok: false, code: 'wallet_exported' })
    expect((await q.clients[0]!.wallet(q.wallet)).exit).toMatchObject({ due: true })
    expect((await q.cli(1, ['wallet', 'list'])).stdout).toContain('EXPORTED (signs nothing)')
  }, 90_000)

  it('import: the exported key brought back signs again; a fresh key becomes a new wallet that signs (viem verifies)', async () => {
    const back = await q.cli(0, ['wallet', 'import', '--private-key-file', walletKeyFile, '--json'])
    expect(back.code, back.stdout + back.stderr).toBe(0)
    expect(json(back.stdout).wallet.toLowerCase()).toBe(q.wallet.toLowerCase())
    expect(await pay(q.wallet, q.agentKey)).toEqual({ ok: true })
    // Not exported any more: importing it again is refused.
    const again = await q.cli(0, ['wallet', 'import', '--private-key-file', walletKeyFile, '--json'])
    expect(json(again.stdout).error.code).toBe('wallet_exists')

    const fresh = generatePrivateKey()
    const freshFile = path.join(q.dir, 'fresh.key')
    writeFileSync(freshFile, fresh)
    const imp = await q.cli(1, ['wallet', 'import', '--private-key-file', freshFile, '--label', 'imported', '--json'])
    expect(imp.code, imp.stdout + imp.stderr).toBe(0)
    const wallet = json(imp.stdout).wallet as Hex
    expect(wallet.toLowerCase()).toBe(privateKeyToAddress(fresh).toLowerCase())
    const { agentKey } = await setupAgent({ host: q.stack.url, owner: q.owners[1]!, wallet, policy: paymentPolicy({ perTx: '1000', rolling24h: '100000' }) })
    await waitAgentFloor()
    expect(await pay(wallet, agentKey)).toEqual({ ok: true })
  }, 60_000)

  it('a sealed key for another address, or sealed to another key than the enclave’s, is refused', async () => {
    const att = (await q.clients[0]!.request('GET', '/v1/attestation')) as { importKey: Hex; auditChain: string }
    const key = generatePrivateKey()
    const bytes = Buffer.from(key.slice(2), 'hex')
    const send = (address: string, sealed: Uint8Array) =>
      q.clients[0]!.post('ImportWallet', { owner: q.owners[0]!.address, label: '', nonce: `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`, issuedAt: String(Date.now()), auditChain: att.auditChain, address, sealedKey: `0x${Buffer.from(sealed).toString('hex')}` }).catch((e) => e)
    const importKey = Buffer.from(att.importKey.slice(2), 'hex')
    // Sealed for (and naming) another address than the key's: the key opens but is not that address's.
    const other = privateKeyToAddress(generatePrivateKey())
    expect(((await send(other, sealToX25519(importKey, bytes, other))) as HostRequestError).code).toBe('import_key_invalid')
    // Sealed to a key the enclave does not hold.
    const stranger = x25519PublicKey(crypto.getRandomValues(new Uint8Array(32)))
    const addr = privateKeyToAddress(key)
    expect(((await send(addr, sealToX25519(stranger, bytes, addr))) as HostRequestError).code).toBe('import_key_invalid')
  }, 30_000)
})
