import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { CatchUpResultSchema } from '../../shared/protocol/messages.js'
import { Enclave, MAX_UNSTORED_ENTRIES } from '../Enclave.js'
import { finishLoad } from './loadState.js'

const seqs = (texts: string[]) => texts.map((t) => (JSON.parse(t) as { seq: number }).seq)

async function readyEnclave(): Promise<Enclave> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-unstored-'))
  const enclave = new Enclave({
    mode: 'sim',
    sealer: createSimSealer({ keyFile: path.join(dir, 'k') }),
    nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1',
    admission: parseAdmission(undefined),
    log: () => {},
    snapshotEvery: 1_000_000,
  })
  await enclave.loadSnapshot(null)
  await released(enclave, await finishLoad(enclave))
  return enclave
}

/** What dispatch does once a response is built: it leaves in seq order (catchUp re-sends only answers that left). */
async function released(enclave: Enclave, r: { persist?: { entries: string[] } }) {
  const s = seqs(r.persist?.entries ?? [])
  if (s.length > 0) await enclave.releaseOrder.wait(s[0]!, s[s.length - 1]!)
  await new Promise((r) => setImmediate(r))
}

/** One agent-path entry in its own tx (what a request writes), sealed as the writer does. */
async function write(enclave: Enclave) {
  const tx = enclave.beginTx()
  enclave.appendEntry(tx, {
    event: 'sign_denied', wallet: null, agentId: null, action: null, reason: null, policy: null,
    verdict: 'deny', rule: null, code: 'policy_x', signedHash: null, requestId: null, ledger: [],
  })
  const p = await enclave.sealTx(tx)
  await released(enclave, { persist: p })
  return p
}

/** SECURITY.md F1: what the enclave keeps for a host that crashed before storing, and its bound. */
describe('enclave: entries not yet known to be stored (catchUp)', () => {
  it('keeps every entry and the newest snapshot until the host says it stored them', async () => {
    const enclave = await readyEnclave()
    const first = await enclave.catchUp(-1, 0)
    expect(CatchUpResultSchema.parse(first.result)).toMatchObject({ phase: 'ready', resent: 1, receiptPublicKey: enclave.receiptPublicKeyHex })
    expect(seqs(first.persist.entries)).toEqual([0]) // enclave_started
    expect(first.persist.sealed?.version).toBe(1)
    expect(first.persist.checkpoint?.seq).toBe(0)
    for (let i = 0; i < 10; i++) await write(enclave)
    // The host stored through seq 5 and snapshot 1: the rest comes again, byte for byte; the snapshot does not.
    const r = await enclave.catchUp(5, 1)
    expect(seqs(r.persist.entries)).toEqual([6, 7, 8, 9, 10])
    expect(r.persist.sealed).toBeNull()
    expect((await enclave.catchUp(10, 1)).persist).toMatchObject({ entries: [], checkpoint: null, sealed: null })
  })

  it('does not re-send an entry whose own answer has not left yet (it is stored with that answer)', async () => {
    const enclave = await readyEnclave()
    const tx = enclave.beginTx()
    enclave.appendEntry(tx, {
      event: 'sign_allowed', wallet: null, agentId: null, action: null, reason: null, policy: null,
      verdict: 'allow', rule: null, code: null, signedHash: null, requestId: null, ledger: [],
    })
    const p = await enclave.sealTx(tx) // decided; its answer is still being signed
    expect(seqs((await enclave.catchUp(0, 1)).persist.entries)).toEqual([])
    await released(enclave, { persist: p })
    expect(seqs((await enclave.catchUp(0, 1)).persist.entries)).toEqual([1])
  })

  it(`beyond ${MAX_UNSTORED_ENTRIES} unacknowledged entries it seals a fresh snapshot and keeps nothing older`, async () => {
    const enclave = await readyEnclave()
    let sealedAt = -1
    for (let i = 0; i <= MAX_UNSTORED_ENTRIES + 1 && sealedAt < 0; i++) {
      const p = await write(enclave)
      if (p.sealed) sealedAt = p.sealed.auditSeq
    }
    expect(sealedAt).toBe(MAX_UNSTORED_ENTRIES) // seqs 0..8192 kept: one too many
    await write(enclave)
    const r = await enclave.catchUp(-1, 1)
    expect(seqs(r.persist.entries)).toEqual([sealedAt + 1])
    expect(r.persist.sealed).toMatchObject({ version: 2, auditSeq: sealedAt })
  })

  it('a load restarted in loading starts from nothing: nothing kept from the earlier load', async () => {
    const enclave = await readyEnclave()
    enclave.phase = 'loading' // as a host that reconnects mid-load finds it
    await enclave.loadSnapshot(null)
    await released(enclave, await finishLoad(enclave))
    expect(seqs((await enclave.catchUp(-1, 0)).persist.entries)).toEqual([0])
  })
})
