import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import {
  type StackWithAgent,
  eip3009,
  paymentPolicy,
  postSign,
  signedBody,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

/**
 * Crash: the host is SIGKILLed after the enclave answered a payment and
 * before the host stored that answer's persist block (SECURITY.md F1). The
 * enclave keeps running and keeps the entry; before F1 was fixed the
 * restarted host stored the next entries after a hole and the next enclave
 * restart never loaded (`audit_resume_gap`, stuck in `loading`). Now the
 * restarted host asks the running enclave to `catchUp`, stores the missing
 * entry before it serves, reports the enclave's receipt key (F3), and a later
 * enclave restart (SIGKILL) reloads with every spend counted.
 *
 * Real processes (built host + simulated enclave). The kill is deterministic:
 * the host's test hook BURSAR_TEST_CRASH_BEFORE_PERSIST names a flag file; if
 * it exists when an agentSign answer with entries arrives, the host deletes it
 * and SIGKILLs itself before storing (a host-only hook, not in the enclave).
 */
describe('host crash before persist: the restarted host catches up with the running enclave, the log stays whole', () => {
  let s: StackWithAgent
  let flag: string
  let receiptKey: string
  const db = () => new Database(path.join(s.stack.dataDir, 'bursar.db'), { readonly: true })
  const storedSeqs = () => {
    const d = db()
    try {
      return d.prepare('SELECT seq FROM audit_entries ORDER BY seq').pluck().all() as number[]
    } finally {
      d.close()
    }
  }
  const pay = async (value: bigint) => {
    const op = eip3009({ wallet: s.wallet, value })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const res = await postSign(s.stack.url, body).catch(() => null)
    return { op, body, res }
  }
  const exported = async () => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.ok).toBe(true)
    return parseAuditJsonl(await res.text())
  }
  const readyz = async () => (await (await fetch(`${s.stack.url}/readyz`)).json()) as { ready: boolean; receiptPublicKey: string | null }

  beforeAll(async () => {
    const saved = process.env.BURSAR_TEST_CRASH_BEFORE_PERSIST
    try {
      flag = path.join((await import('node:os')).tmpdir(), `bursar-crash-${process.pid}-${Date.now()}`)
      process.env.BURSAR_TEST_CRASH_BEFORE_PERSIST = flag
      s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '3000' }))
    } finally {
      if (saved === undefined) delete process.env.BURSAR_TEST_CRASH_BEFORE_PERSIST
      else process.env.BURSAR_TEST_CRASH_BEFORE_PERSIST = saved
    }
    receiptKey = (await readyz()).receiptPublicKey!
    expect(receiptKey).toMatch(/^0x[0-9a-f]+$/)
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  let crashedSeq = -1

  it('the host dies between the enclave answer and its write: the agent gets nothing, the store lacks the entry', async () => {
    const first = await pay(1000n)
    expect(first.res?.status).toBe(200)
    expect(await verifyEip3009(s.wallet, first.op, first.res!.json.signature as Hex)).toBe(true)
    const before = storedSeqs()
    writeFileSync(flag, '')
    const host = s.stack.host
    const exited = new Promise<string | null>((resolve) => host.once('exit', (_c, sig) => resolve(sig)))
    const crashed = await pay(1000n)
    expect(crashed.res).toBeNull() // connection cut: the answer never reached the agent
    expect(await exited).toBe('SIGKILL')
    expect(existsSync(flag)).toBe(false) // the hook fired (one shot)
    // The enclave signed and wrote the entry after the last stored one; the host never stored it.
    expect(storedSeqs()).toEqual(before)
    crashedSeq = before.at(-1)! + 1
  })

  it('restarted, the host catches up before it serves: the missing entry is stored, /readyz has the receipt key (F3)', async () => {
    await s.stack.startHost()
    await s.stack.waitReady()
    expect((await readyz()).receiptPublicKey).toBe(receiptKey)
    const seqs = storedSeqs()
    expect(seqs).toContain(crashedSeq)
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i)) // no hole
    const exp = await exported()
    const entry = (exp.entries as AuditEntry[]).find((e) => e.seq === crashedSeq)!
    expect(entry.event).toBe('sign_allowed')
    expect(entry.ledger.length).toBeGreaterThan(0)
    expect(verifyAuditLog({ ...exp, publicKey: receiptKey }).ok).toBe(true)
  })

  it('the crashed payment counts: one more 1000 fits the 3000 cap, then the cap holds', async () => {
    const third = await pay(1000n)
    expect(third.res?.status).toBe(200)
    expect(await verifyEip3009(s.wallet, third.op, third.res!.json.signature as Hex)).toBe(true)
    const over = await pay(1n)
    expect(over.res?.json.code).toBe('policy_daily_cap_exceeded')
    expect(JSON.stringify(over.res?.json)).not.toMatch(/0x[0-9a-fA-F]{130}/)
  })

  it('an enclave SIGKILL + restart reloads the stored log (no audit_resume_gap); the budget and the chain hold', async () => {
    const enclave = s.stack.enclave
    await new Promise<void>((resolve) => {
      enclave.once('exit', () => resolve())
      enclave.kill('SIGKILL')
    })
    s.stack.logs.length = 0
    await s.stack.startEnclave()
    await s.stack.waitReady(20_000)
    expect(s.stack.logs.join('')).not.toContain('audit_resume_gap')
    expect((await readyz()).receiptPublicKey).toBe(receiptKey)
    await waitAgentFloor()
    const over = await pay(1n)
    expect(over.res?.json.code).toBe('policy_daily_cap_exceeded')
    const exp = await exported()
    expect((exp.entries as AuditEntry[]).filter((e) => e.event === 'sign_allowed')).toHaveLength(3)
    expect(verifyAuditLog({ ...exp, publicKey: receiptKey }).ok).toBe(true)
  })
})
