/**
 * audit40's attack tests (one row budget per request): a large audit log written straight into a real store (SQLite
 * or PostgreSQL, as the host makes it), and the host's real read routes (`/v1/audit/entries`, `/v1/audit/export`,
 * `/v1/agent/payments`) on a real socket over it. The enclave's part in these reads is only who the caller is (an
 * owner's wallets, an agent's verified identity): a stand-in answers that (`getWallets`, `agentStatus`); every read
 * of the log is the host's own code. Not a test file (no `.test.ts`): the attack files import it.
 */
import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import pg from 'pg'
import type { EnclaveGateway } from '../../host/enclave/EnclaveGateway.js'
import { ownerReadGuard } from '../../host/plugins/ownerReadGuard.js'
import { agentReadRoutes } from '../../host/routes/agentReads.js'
import { auditRoutes } from '../../host/routes/audit.js'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { SqliteStore } from '../../host/storage/SqliteStore.js'
import type { Store } from '../../host/storage/Store.js'
import { freshDatabase } from '../helpers/postgres.js'

export type StoreKind = 'sqlite' | 'postgres'
export const STORE_KINDS: StoreKind[] = ['sqlite', 'postgres']

/** One stored entry: its chain, seq, wallet (lower-case, or null) and agent; its time is its seq. */
export type LogRow = { chain: string; seq: number; wallet: string | null; agentId: string | null }

const bodyOf = (r: LogRow) =>
  JSON.stringify({
    seq: r.seq,
    hash: `0x${Buffer.from(r.chain).toString('hex')}${r.seq.toString(16).padStart(64 - 2 * r.chain.length, '0')}`,
    time: r.seq,
    prevHash: `0x${'00'.repeat(32)}`, // not a real chain: the tail's link check reads it
    event: 'sign',
    wallet: r.wallet,
    agentId: r.agentId,
    verdict: 'allow',
    chain: r.chain,
  })

/** A store of kind `kind` holding `rows` (inserted directly, in bulk: as a long-running host would have them). */
export async function storeWithLog(kind: StoreKind, rows: LogRow[]): Promise<Store> {
  if (kind === 'sqlite') {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-audit40-')), 'bursar.db')
    new SqliteStore(file, { backgroundCheckpoint: false }).close() // the schema, as the host makes it
    const db = new Database(file)
    const ins = db.prepare("INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq) VALUES (?, ?, ?, ?, 'sign', ?, ?, 'allow', ?, 0)")
    db.transaction(() => {
      for (const r of rows) ins.run(r.chain, r.seq, `h${r.chain}:${r.seq}`, r.seq, r.wallet, r.agentId, bodyOf(r))
    })()
    db.close()
    return new SqliteStore(file, { backgroundCheckpoint: false })
  }
  const url = await freshDatabase()
  await (await PostgresStore.open(url)).close() // the schema
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    for (let i = 0; i < rows.length; i += 5_000) {
      const part = rows.slice(i, i + 5_000)
      await c.query(
        `INSERT INTO audit_entries(chain, seq, hash, time, event, wallet, agent_id, verdict, body, wallet_seq)
           SELECT c, s, 'h' || c || ':' || s, s, 'sign', w, a, 'allow', b, 0 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(c, s, w, a, b)`,
        [part.map((r) => r.chain), part.map((r) => r.seq), part.map((r) => r.wallet), part.map((r) => r.agentId), part.map(bodyOf)],
      )
    }
    await c.query('ANALYZE audit_entries')
  } finally {
    await c.end()
  }
  return PostgresStore.open(url)
}

export type AuditHost = { url: string; app: FastifyInstance; operator: string; close(): Promise<void> }

/**
 * The host's audit and agent read routes over `store` with the row budget `budget` (BURSAR_AUDIT_SCAN_ROWS), owner
 * scope on (operator token `operator`). `owners`: each wallet's owners (what the enclave's getWallets says).
 */
export async function auditHost(store: Store, budget: number, owners: Map<string, string[]>): Promise<AuditHost> {
  const gateway = {
    chain: '',
    async call(req: { type: string; request?: string }) {
      if (req.type === 'getWallets')
        return { ok: true, result: { wallets: [...owners].map(([address, os]) => ({ address, governance: { owners: os } })) } }
      if (req.type === 'agentStatus') {
        // The enclave verifies the signed request and answers who signed it; the stand-in takes the request's word.
        const r = JSON.parse(req.request ?? '{}') as { agentId: string; wallet: string; op: string; limit?: number }
        return { ok: true, result: { agentId: r.agentId, wallet: r.wallet, op: r.op, ...(r.limit !== undefined ? { limit: r.limit } : {}) } }
      }
      return { ok: false, error: { code: 'enclave_unavailable', message: `not in this test: ${req.type}` } }
    },
  } as unknown as EnclaveGateway
  const app = Fastify()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  let origin = ''
  const operator = 'operator-token-audit40'
  await app.register(auditRoutes(store, gateway, ownerReadGuard({ mode: 'owner', operatorToken: operator, origins: () => [origin] }), budget))
  await app.register(agentReadRoutes(gateway, store, budget))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  origin = url
  return {
    url,
    app,
    operator,
    async close() {
      await app.close()
      await store.close()
    },
  }
}

/** A page of `/v1/audit/entries` as the tests read it. */
export type EntriesPage = { entries: Array<{ seq: number; chain?: string; wallet: string | null }>; next: number | null; scanned: number; scannedThrough: number }

/** Follows `/v1/audit/entries` from the start with `query` and `authorization`: every page, in order. */
export async function followEntries(host: AuditHost, query: Record<string, string>, authorization: string): Promise<Array<EntriesPage & { after: number }>> {
  const pages: Array<EntriesPage & { after: number }> = []
  for (let after = -1; ; ) {
    const res = await fetch(`${host.url}/v1/audit/entries?${new URLSearchParams({ ...query, after: String(after) })}`, { headers: { authorization } })
    if (res.status !== 200) throw new Error(`audit entries ${res.status}: ${await res.text()}`)
    const page = (await res.json()) as EntriesPage
    pages.push({ ...page, after })
    if (page.next === null) return pages
    if (page.next <= after) throw new Error(`the cursor did not move: ${page.next} after ${after}`)
    after = page.next
  }
}

/** Entries as `chain:seq` keys (every entry once: a key seen twice is kept twice). */
export const keysOf = (entries: Array<{ seq: number; chain?: string }>) => entries.map((e) => `${e.chain ?? ''}:${e.seq}`)
