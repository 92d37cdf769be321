import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { type AuditExport, parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { GENESIS_HASH } from '../../shared/audit/hashAuditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { type StackWithAgent, eip3009, paymentPolicy, runCli, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

const DB_FILES = ['bursar.db', 'bursar.db-wal', 'bursar.db-shm']

/**
 * The chain across restarts of both real processes: one continuous chain
 * with a state_loaded entry per restart; and a host that restarts the
 * enclave on an older copy of its storage is caught by an auditor who kept
 * a newer head (`bursar audit verify --since-head`).
 */
describe('audit chain across restarts and a storage rollback (real host + enclave)', () => {
  let s: StackWithAgent
  let publicKey: string
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-audit-restart-'))
  const exportAll = async (): Promise<{ text: string; log: AuditExport }> => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.status).toBe(200)
    const text = await res.text()
    return { text, log: parseAuditJsonl(text) }
  }
  const pay = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const operation = eip3009({ wallet: s.wallet, value: 10n })
      const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
      expect(await verifyEip3009(s.wallet, operation, r.signature)).toBe(true)
    }
  }
  const restartBoth = async () => {
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
  }

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }))
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('two restarts of both processes: one chain from genesis, no gap, one state_loaded per restart', async () => {
    await pay(3)
    await restartBoth()
    await pay(2) // the SDK waits out the fresh enclave's start floor
    await restartBoth()
    await pay(2)
    const { log } = await exportAll()
    expect(log.entries[0]).toMatchObject({ seq: 0, prevHash: GENESIS_HASH, event: 'enclave_started' })
    expect(log.entries.map((e) => e.seq)).toEqual(log.entries.map((_, i) => i))
    expect(log.entries.filter((e) => e.event === 'enclave_started').length).toBe(1)
    expect(log.entries.filter((e) => e.event === 'state_loaded').length).toBe(2)
    expect(log.entries.filter((e) => e.event === 'sign_allowed').length).toBe(7)
    const verdict = verifyAuditLog({ ...log, publicKey })
    expect(verdict).toMatchObject({ ok: true, count: log.entries.length })
    if (verdict.ok) expect(verdict.signedHead).toEqual(verdict.head)
  })

  it('rolled-back storage is detected by `bursar audit verify --since-head` with the newer head', async () => {
    // A copy of the storage taken while both are stopped …
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    const backup = path.join(work, 'backup')
    rmSync(backup, { recursive: true, force: true })
    mkdirSync(backup)
    for (const f of DB_FILES) if (existsSync(path.join(s.stack.dataDir, f))) copyFileSync(path.join(s.stack.dataDir, f), path.join(backup, f))
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    // … then more traffic, and an auditor keeps the signed head.
    await pay(3)
    const head = ((await (await fetch(`${s.stack.url}/v1/audit/head`)).json()) as { checkpoint: { seq: number; head: string } }).checkpoint
    const honest = await exportAll()
    expect(verifyAuditLog({ ...honest.log, publicKey, sinceHead: { seq: head.seq, hash: head.head } })).toMatchObject({ ok: true })

    // The host rolls its storage back to the copy and restarts the enclave on it; traffic goes on.
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    for (const f of DB_FILES) {
      const live = path.join(s.stack.dataDir, f)
      if (existsSync(path.join(backup, f))) copyFileSync(path.join(backup, f), live)
      else rmSync(live, { force: true })
    }
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await pay(5)
    const forked = await exportAll()
    // The rolled-back log is self-consistent on its own …
    expect(verifyAuditLog({ ...forked.log, publicKey })).toMatchObject({ ok: true })
    expect(forked.log.entries.length).toBeGreaterThan(head.seq + 1)
    const file = path.join(work, 'rolled-back.jsonl')
    writeFileSync(file, forked.text)

    // … and the auditor's CLI refuses it against the head it kept (and accepts the honest export with it).
    const since = `${head.seq}:${head.head}`
    const bad = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--since-head', since])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^BROKEN at seq \d+: audit_(rollback|fork): /)
    expect(bad.stdout).toContain(`BROKEN at seq ${head.seq}:`)
    const honestFile = path.join(work, 'honest.jsonl')
    writeFileSync(honestFile, honest.text)
    const good = await runCli(['audit', 'verify', '--file', honestFile, '--public-key', publicKey, '--since-head', since])
    expect(good.code).toBe(0)
    expect(good.stdout).toContain('OK: ')
  })
})
