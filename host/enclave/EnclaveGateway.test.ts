import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { serveFrames } from '../../enclave/transport/serveFrames.js'
import { freshDatabase, releasePostgres } from '../../test/helpers/postgres.js'
import { PostgresStore } from '../storage/PostgresStore.js'
import { SqliteStore } from '../storage/SqliteStore.js'
import type { Store } from '../storage/Store.js'
import type { Persist } from '../../shared/protocol/messages.js'
import { EnclaveGateway } from './EnclaveGateway.js'

afterAll(() => releasePostgres())

/** A scripted enclave over a real Unix socket: ready after load, then halted (on either store). */
describe.each(['sqlite', 'postgres'] as const)('EnclaveGateway on %s', (kind) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-gw-'))
  const cleanup: Array<() => unknown> = []
  afterAll(async () => {
    for (const c of cleanup) await c()
  })
  const openStore = async (): Promise<Store> =>
    kind === 'sqlite' ? new SqliteStore(path.join(dir, 'db.sqlite')) : PostgresStore.open(await freshDatabase())

  it('stops reporting ready once the enclave answers enclave_halted', async () => {
    let phase = 'awaiting_state'
    const server = await serveFrames({
      listen: { kind: 'unix', path: path.join(dir, 'e.sock') },
      handle: async (msg) => {
        const type = (msg as { type: string }).type
        if (type === 'hello') return { ok: true, result: { protocolVersion: 1, mode: 'sim', phase, enclaveVersion: 't' } }
        if (type === 'loadState') return { ok: true, result: { stateVersion: 1, auditHead: null } }
        if (type === 'finishLoad') {
          phase = 'ready'
          return { ok: true, result: { phase: 'ready', stateVersion: 1, auditHead: null, receiptPublicKey: '0x00', wallets: 0 } }
        }
        return { ok: false, error: { code: 'enclave_halted', message: 'Enclave halted on a broken invariant' } }
      },
    })
    cleanup.push(() => server.close())
    const store = await openStore()
    cleanup.push(() => store.close())
    const gw = new EnclaveGateway({ kind: 'unix', path: path.join(dir, 'e.sock') }, store)
    cleanup.push(() => gw.close())
    await gw.start(5_000)
    expect(gw.status).toMatchObject({ ready: true, phase: 'ready' })
    const res = await gw.call({ type: 'getWallets' })
    expect(res.ok).toBe(false)
    expect(gw.status).toMatchObject({ ready: false, phase: 'halted' })
  })

  it('stores a periodic seal after the answer it rode with, a seal of its own block with its entries (tail41)', async () => {
    const entry = (seq: number) => JSON.stringify({ seq, hash: `0x${seq.toString(16).padStart(64, '0')}`, time: 1, event: 'info', verdict: 'info' })
    const seal = (version: number, auditSeq: number) => ({ version, auditSeq, blob: new Uint8Array(64 * 1024).fill(version) })
    // Block 1: entries 0-1 with a periodic seal captured at an earlier head (-1 < 0). Block 2: entries 2-3 with a seal
    // covering them (an owner act's or the unstored bound's: auditSeq 3 ≥ its first entry 2).
    const persists: Persist[] = [{ entries: [entry(0), entry(1)], checkpoint: null, sealed: seal(1, -1) }, { entries: [entry(2), entry(3)], checkpoint: null, sealed: seal(2, 3) }]
    const server = await serveFrames({
      listen: { kind: 'unix', path: path.join(dir, 's.sock') },
      handle: async (msg) => {
        const type = (msg as { type: string }).type
        if (type === 'hello') return { ok: true, result: { protocolVersion: 1, mode: 'sim', phase: 'awaiting_state', enclaveVersion: 't' } }
        if (type === 'loadState') return { ok: true, result: { stateVersion: 1, auditHead: null } }
        if (type === 'finishLoad') return { ok: true, result: { phase: 'ready', stateVersion: 1, auditHead: null, receiptPublicKey: '0x00', wallets: 0 } }
        if (type === 'catchUp') return { ok: false, error: { code: 'internal_error', message: 'scripted' } }
        return { ok: false, error: { code: 'wallet_not_found', message: 'scripted' }, persist: persists.shift()! }
      },
    })
    cleanup.push(() => server.close())
    const inner = kind === 'sqlite' ? new SqliteStore(path.join(dir, 'seal.sqlite')) : await PostgresStore.open(await freshDatabase())
    cleanup.push(() => inner.close())
    // What each commit carried: entries and seal versions, in order.
    const commits: Array<{ entries: number; seals: number[] }> = []
    const store = new Proxy(inner, {
      get(t, k) {
        const v = Reflect.get(t, k, t)
        if (k !== 'persistMany' || typeof v !== 'function') return typeof v === 'function' ? v.bind(t) : v
        return (ps: Persist[], ...rest: unknown[]) => {
          commits.push({ entries: ps.reduce((n, p) => n + p.entries.length, 0), seals: ps.flatMap((p) => (p.sealed ? [p.sealed.version] : [])) })
          return (v as (...a: unknown[]) => Promise<number>).call(t, ps, ...rest)
        }
      },
    }) as Store
    const gw = new EnclaveGateway({ kind: 'unix', path: path.join(dir, 's.sock') }, store)
    cleanup.push(() => gw.close())
    await gw.start(5_000)
    await gw.call({ type: 'getWallets' })
    // Released after a commit of its entries alone; the seal is not stored yet.
    expect(commits).toEqual([{ entries: 2, seals: [] }])
    if (kind === 'sqlite') expect(await inner.latestSnapshot()).toBeNull() // (a synchronous store: nothing ran in between)
    while (!(await inner.latestSnapshot())) await new Promise((r) => setImmediate(r))
    expect(commits[1]).toEqual({ entries: 0, seals: [1] })
    expect((await inner.latestSnapshot())?.version).toBe(1)
    // A seal of the block's own entries commits with them: stored before the answer is released.
    await gw.call({ type: 'getWallets' })
    expect(commits[2]).toEqual({ entries: 2, seals: [2] })
    expect((await inner.latestSnapshot())?.version).toBe(2)
    expect(commits).toHaveLength(3)
    // The bench probe (bursar.hop): an agent request's forward, answer read and commit times, only to a subscriber.
    const hops: Array<{ agentId: string; nonce: string; id: number; forward: number; answered: number; stored: number }> = []
    const onHop = (m: unknown) => hops.push(m as (typeof hops)[number])
    subscribe('bursar.hop', onHop)
    try {
      persists.push({ entries: [entry(4)], checkpoint: null, sealed: null })
      await gw.call({ type: 'getWallets' }, undefined, { agentId: 'agent-1', nonce: 'n-1', requestHash: 'h' })
    } finally {
      unsubscribe('bursar.hop', onHop)
    }
    expect(hops).toHaveLength(1)
    expect(hops[0]).toMatchObject({ agentId: 'agent-1', nonce: 'n-1' })
    expect(hops[0]!.id).toBeGreaterThan(0) // the frame id the bench's wire rows are keyed by
    expect(hops[0]!.forward).toBeLessThanOrEqual(hops[0]!.answered)
    expect(hops[0]!.answered).toBeLessThanOrEqual(hops[0]!.stored)
  })
})
