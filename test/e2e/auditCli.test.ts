import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { fastVerifyAuditJsonl, Scanner } from '../../shared/audit/verifyAuditJsonl.js'
import { eip3009, paymentPolicy, runCli, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const OWNER_KEY = generatePrivateKey()
const owner = privateKeyToAccount(OWNER_KEY)

const DB_FILES = ['bursar.db', 'bursar.db-wal', 'bursar.db-shm']

/**
 * The auditor's CLI, spawned, against the real host: `bursar audit verify
 * --host --token` accepts the honest log of a demo-like run and names the
 * first broken seq for three kinds of tampering with the stored log (an
 * edited entry, a removed middle entry, a removed tail with its
 * checkpoints). The owner's `bursar audit query` sees only its wallets.
 */
describe('bursar audit verify/query against a real host whose storage is tampered with', () => {
  let s: { stack: Stack; wallet: `0x${string}`; agentKey: AgentKey }
  let publicKey: string
  let count: number
  let head: { seq: number; head: string }
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-audit-cli-e2e-'))
  const backup = path.join(work, 'backup')
  const db = () => path.join(s.stack.dataDir, 'bursar.db')
  const verify = (...extra: string[]) => runCli(['audit', 'verify', '--host', s.stack.url, '--public-key', publicKey, ...extra])
  const withToken = (...extra: string[]) => verify('--token', s.stack.auditToken, ...extra)

  /** Stops the host, edits its SQLite file, starts it again (the enclave keeps running). */
  const tamper = async (sql: (d: Database.Database) => void) => {
    await s.stack.stopHost()
    const d = new Database(db())
    try {
      sql(d)
    } finally {
      d.close()
    }
    await s.stack.startHost()
    await s.stack.waitReady()
  }
  const restore = async () => {
    await s.stack.stopHost()
    for (const f of DB_FILES) {
      const live = path.join(s.stack.dataDir, f)
      if (existsSync(path.join(backup, f))) copyFileSync(path.join(backup, f), live)
      else rmSync(live, { force: true })
    }
    await s.stack.startHost()
    await s.stack.waitReady()
  }

  beforeAll(async () => {
    // Demo-like: an agent pays a merchant within a rolling cap until the cap refuses it.
    const stack = await startStack()
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('demo')
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy: paymentPolicy({ perTx: '20000', rolling24h: '30000' }) })
    s = { stack, wallet, agentKey }
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
    for (let i = 0; i < 4; i++) {
      const operation = eip3009({ wallet: s.wallet, value: 10_000n })
      const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation, context: { reason: `call ${i}` } }).catch(
        (e: unknown) => e,
      )
      if (i < 3) expect(await verifyEip3009(s.wallet, operation, (r as { signature: `0x${string}` }).signature)).toBe(true)
      else expect(r).toBeInstanceOf(PolicyDeniedError)
    }
    head = ((await (await fetch(`${s.stack.url}/v1/audit/head`)).json()) as { checkpoint: { seq: number; head: string } }).checkpoint
    count = head.seq + 1
    // A copy of the honest storage to restore between tamperings.
    await s.stack.stopHost()
    mkdirSync(backup)
    for (const f of DB_FILES) if (existsSync(path.join(s.stack.dataDir, f))) copyFileSync(path.join(s.stack.dataDir, f), path.join(backup, f))
    await s.stack.startHost()
    await s.stack.waitReady()
  })
  afterAll(async () => {
    await s?.stack.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('exits 0 on the honest log with the operator token; 2 without credentials (nothing proven)', async () => {
    const ok = await withToken('--since-head', `${head.seq}:${head.head}`)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`OK: ${count} entries, head seq ${head.seq} ${head.head}`)
    // The host serves canonical lines, so the CLI's fast path hashes every entry line as stored (none falls back).
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    const bytes = Buffer.from(await res.arrayBuffer())
    const scanner = new Scanner(bytes)
    const lines = bytes.toString('utf8').trimEnd().split('\n')
    let at = 0
    const refused: string[] = []
    for (const line of lines) {
      if (line.includes('"type":"entry"') && scanner.entry(at, bytes.length) < 0) refused.push(line)
      at += Buffer.byteLength(line) + 1
    }
    expect(refused).toEqual([])
    expect(lines.filter((l) => l.includes('"type":"entry"'))).toHaveLength(count)
    expect(fastVerifyAuditJsonl(bytes, { publicKey })).toMatchObject({ ok: true, count })
    const anonymous = await verify()
    expect(anonymous.code).toBe(2)
    expect(anonymous.stderr).toContain('HTTP 401')
    expect(anonymous.stderr).toContain('audit_read_unauthorized')
  })

  it('an edited field in a stored entry → exit 1, BROKEN at that seq: audit_entry_modified', async () => {
    const seq = 5
    await tamper((d) => {
      const body = JSON.parse(d.prepare('SELECT body FROM audit_entries WHERE seq = ?').pluck().get(seq) as string)
      expect(body.event).toBe('sign_allowed')
      body.reason = 'nothing to see here'
      d.prepare('UPDATE audit_entries SET body = ? WHERE seq = ?').run(JSON.stringify(body), seq)
    })
    const r = await withToken()
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^BROKEN at seq ${seq}: audit_entry_modified: `))
    await restore()
    expect((await withToken()).code).toBe(0)
  })

  it('a deleted middle row → exit 1, BROKEN at that seq: audit_sequence_gap', async () => {
    const seq = 4
    await tamper((d) => expect(d.prepare('DELETE FROM audit_entries WHERE seq = ?').run(seq).changes).toBe(1))
    const r = await withToken()
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^BROKEN at seq ${seq}: audit_sequence_gap: `))
    await restore()
  })

  it('deleted last rows and their checkpoints: self-consistent alone, exit 1 at the first missing seq against the kept head', async () => {
    const from = count - 2
    await tamper((d) => {
      expect(d.prepare('DELETE FROM audit_entries WHERE seq >= ?').run(from).changes).toBe(2)
      d.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(from)
    })
    // Documented limit: without a head held outside the host, a cleanly cut tail is indistinguishable from a shorter log.
    const alone = await withToken()
    expect(alone.code).toBe(0)
    expect(alone.stdout).toContain(`OK: ${from} entries`)
    const r = await withToken('--since-head', `${head.seq}:${head.head}`, '--json')
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'audit_rollback', seq: from })
    await restore()
  })

  it("`bursar audit query` with the owner key lists this owner's decisions and no one else's", async () => {
    const mine = await runCli(['audit', 'query', '--host', s.stack.url, '--json'], { BURSAR_OWNER_KEY: OWNER_KEY })
    expect(mine.code).toBe(0)
    const page = JSON.parse(mine.stdout) as { scope: string; entries: { event: string; wallet: string }[] }
    expect(page.scope).toBe('owner')
    expect(page.entries.map((e) => e.event)).toEqual(['wallet_created', 'agent_registered', 'policy_set', 'sign_allowed', 'sign_allowed', 'sign_allowed', 'sign_denied'])
    const denied = await runCli(['audit', 'query', '--host', s.stack.url, '--verdict', 'deny'], { BURSAR_OWNER_KEY: OWNER_KEY })
    expect(denied.code).toBe(0)
    expect(denied.stdout.trim().split('\n').length).toBe(1)
    expect(denied.stdout).toContain('sign_denied')
    const other = await runCli(['audit', 'query', '--host', s.stack.url, '--json'], { BURSAR_OWNER_KEY: generatePrivateKey() })
    expect(JSON.parse(other.stdout).entries).toEqual([])
    // The owner's key cannot stand in for the operator's: the owner-scoped export is not a chain to verify.
    const ownerVerify = await runCli(['audit', 'verify', '--host', s.stack.url, '--public-key', publicKey, '--owner'], { BURSAR_OWNER_KEY: OWNER_KEY })
    expect(ownerVerify.code).toBe(2)
    expect(ownerVerify.stderr).toContain('owner-scoped')
  })
})

