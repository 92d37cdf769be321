import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { serveFrames } from '../../enclave/transport/serveFrames.js'
import { freshDatabase, releasePostgres } from '../../test/helpers/postgres.js'
import { PostgresStore } from '../storage/PostgresStore.js'
import { SqliteStore } from '../storage/SqliteStore.js'
import type { Store } from '../storage/Store.js'
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
})
