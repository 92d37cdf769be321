import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { GENESIS_HASH, hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyReceipt } from '../../shared/audit/verifyReceipt.js'
import { type StackWithAgent, eip3009, paymentPolicy, runCli, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * Issue 15 step 2 through real host + enclave processes: two wallets, payments and owner acts on both, a restart of
 * both processes (the enclave loads the sealed core + wallet blobs and replays the unsealed tail), more payments:
 * each wallet's thread runs walletSeq 1, 2, … across the restart; the host's one-wallet export verifies with
 * `bursar audit verify --wallet`, and the same export with one entry removed is refused with audit_thread_broken.
 */
describe('wallet audit threads across an enclave restart (real host + enclave)', () => {
  let s: StackWithAgent
  let publicKey: string
  let B: { wallet: Hex; agentKey: AgentKey }
  const receipts: Array<{ wallet: Hex; receipt: Record<string, unknown> }> = []
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-threads-'))
  const A = () => ({ wallet: s.wallet, agentKey: s.agentKey })
  const pay = async (w: { wallet: Hex; agentKey: AgentKey }, n: number) => {
    for (let i = 0; i < n; i++) {
      const operation = eip3009({ wallet: w.wallet, value: 10n })
      const r = await requestSignature({ host: s.stack.url, agentKey: w.agentKey, wallet: w.wallet, operation })
      expect(await verifyEip3009(w.wallet, operation, r.signature)).toBe(true)
      receipts.push({ wallet: w.wallet, receipt: r.receipt as Record<string, unknown> })
    }
  }
  const freeze = async (w: { wallet: Hex; agentKey: AgentKey }) => {
    await s.client.act('FreezeAgent', w.wallet, { agentId: w.agentKey.agentId, frozen: true })
    await s.client.act('FreezeAgent', w.wallet, { agentId: w.agentKey.agentId, frozen: false })
  }
  const exportAll = async () => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.status).toBe(200)
    return parseAuditJsonl(await res.text())
  }
  const threadOf = (entries: AuditEntry[], wallet: string) => entries.filter((e) => e.wallet?.toLowerCase() === wallet.toLowerCase())

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '1000', rolling24h: '1000000' })
    s = await stackWithAgent(policy)
    const { wallet } = await s.client.createWallet('second')
    const set = await setupAgent({ host: s.stack.url, owner: s.owner, wallet, policy })
    B = { wallet, agentKey: set.agentKey }
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('each wallet thread is contiguous across the restart; receipts name their walletSeq', async () => {
    await pay(A(), 2)
    await pay(B, 2)
    await freeze(A())
    await freeze(B)
    // Unsealed at the restart: these agent decisions come back through the replayed tail, not a blob.
    await pay(A(), 3)
    await pay(B, 1)
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await pay(A(), 2) // the SDK waits out the fresh enclave's start floor
    await pay(B, 2)
    await freeze(B)

    const log = await exportAll()
    expect(verifyAuditLog({ ...log, publicKey })).toMatchObject({ ok: true, count: log.entries.length })
    const loaded = log.entries.find((e) => e.event === 'state_loaded')!
    expect(loaded).toBeDefined()
    expect(loaded).not.toHaveProperty('walletSeq') // an enclave-level entry: no thread
    for (const w of [s.wallet, B.wallet]) {
      const thread = threadOf(log.entries, w)
      expect(thread.map((e) => e.walletSeq)).toEqual(thread.map((_, i) => i + 1))
      expect(thread[0]!.walletPrev).toBe(GENESIS_HASH)
      for (let i = 1; i < thread.length; i++) expect(thread[i]!.walletPrev).toBe(hashAuditEntry(thread[i - 1]!))
      // The restart is inside the thread: entries on both sides of it.
      expect(thread.some((e) => e.seq < loaded.seq) && thread.some((e) => e.seq > loaded.seq)).toBe(true)
      expect(thread.filter((e) => e.event === 'sign_allowed')).toHaveLength(w === s.wallet ? 7 : 5)
      expect(thread.filter((e) => e.event === 'wallet_created')).toHaveLength(1)
    }
    // Every receipt names its entry's walletSeq, and verifyReceipt checks it against the log.
    for (const { wallet, receipt } of receipts) {
      const entry = log.entries[receipt.seq as number]!
      expect(entry.wallet?.toLowerCase()).toBe(wallet.toLowerCase())
      expect(receipt.walletSeq).toBe(entry.walletSeq)
      expect(verifyReceipt({ receipt: receipt as never, entries: log.entries, publicKey })).toMatchObject({ ok: true })
      expect(verifyReceipt({ receipt: { ...receipt, walletSeq: (receipt.walletSeq as number) + 1 } as never, entries: log.entries, publicKey })).toMatchObject({ ok: false, code: 'receipt_entry_mismatch' })
    }
  })

  it('`bursar audit verify --wallet` passes on the host\'s one-wallet export and refuses it with one entry removed', async () => {
    const file = path.join(work, 'b.jsonl')
    const exp = await runCli(['audit', 'export', '--host', s.stack.url, '--token', s.stack.auditToken, '--wallet', B.wallet, '--out', file])
    expect(exp.code, exp.stderr).toBe(0)
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const entries = lines.map((l) => JSON.parse(l) as { type: string; wallet?: string }).filter((o) => o.type === 'entry')
    expect(entries.length).toBeGreaterThan(8)
    expect(entries.every((e) => e.wallet?.toLowerCase() === B.wallet.toLowerCase())).toBe(true) // only B's

    const ok = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', B.wallet])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toContain(`OK: wallet ${B.wallet}: thread of ${entries.length} entries (walletSeq 1..${entries.length})`)
    expect(ok.stdout).toMatch(/signed through walletSeq \d+/)
    // Straight from the host, too; and the whole log filtered by the verifier gives the same thread.
    const live = await runCli(['audit', 'verify', '--host', s.stack.url, '--token', s.stack.auditToken, '--public-key', publicKey, '--wallet', B.wallet, '--json'])
    expect(live.code, live.stdout + live.stderr).toBe(0)
    expect(JSON.parse(live.stdout)).toMatchObject({ ok: true, complete: false, unthreaded: 0 })
    const whole = path.join(work, 'all.jsonl')
    expect((await runCli(['audit', 'export', '--host', s.stack.url, '--token', s.stack.auditToken, '--out', whole])).code).toBe(0)
    const all = await runCli(['audit', 'verify', '--file', whole, '--public-key', publicKey, '--wallet', B.wallet, '--json'])
    expect(all.code, all.stdout).toBe(0)
    expect(JSON.parse(all.stdout)).toMatchObject({ ok: true, complete: true, thread: (JSON.parse(live.stdout) as { thread: unknown[] }).thread })

    // One entry of B's thread removed from the middle of the export: refused, exactly.
    const middle = lines.findIndex((l, i) => i > lines.length / 2 && l.includes('"type":"entry"'))
    const cut = lines.filter((_, i) => i !== middle)
    const tampered = path.join(work, 'b-cut.jsonl')
    writeFileSync(tampered, `${cut.join('\n')}\n`)
    const bad = await runCli(['audit', 'verify', '--file', tampered, '--public-key', publicKey, '--wallet', B.wallet])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^BROKEN at seq \d+: audit_thread_broken: /)
  })
})
