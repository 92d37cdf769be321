import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, type ResponseFrame } from '../../shared/protocol/messages.js'
import {
  type AgentSignOk,
  MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq

/**
 * Attack: `catchUp` with hostile numbers, in every phase, by the thousand, interleaved with signing, and against a
 * full buffer of unstored entries (each answer re-sends up to 16 MiB outside the writer). Nothing halts: bad numbers
 * are `message_invalid`, the wrong phase `enclave_not_ready`; a lie (storedThrough beyond the head) only makes the
 * enclave forget what the host could have failed to store anyway; every payment still signs within policy with
 * its entry in its own answer. The worst stall a catchUp flood causes is measured.
 */
describe('adversarial: catchUp with hostile numbers and floods (real enclave)', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  const pay = (value = 1n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('catchUp before ready: enclave_not_ready in awaiting_state and loading; loadState in ready: phase_illegal', async () => {
    const other = new MaliciousHost()
    try {
      await other.startEnclave()
      const cu = { type: 'catchUp', storedThrough: -1, snapshotVersion: 0 }
      expect(refusalCode(await other.call(cu))).toBe('enclave_not_ready')
      expect((await other.call({ type: 'loadState', snapshot: null })).ok).toBe(true)
      expect(refusalCode(await other.call(cu))).toBe('enclave_not_ready')
      expect((await other.call({ type: 'finishLoad' })).ok).toBe(true)
      expect((await other.call(cu)).ok).toBe(true)
      expect(refusalCode(await other.call({ type: 'loadState', snapshot: null }))).toBe('phase_illegal')
      expect(refusalCode(await other.call({ type: 'finishLoad' }))).toBe('phase_illegal')
    } finally {
      await other.stop()
    }
  })

  it('bad numbers → message_invalid; huge ones are a lie the enclave survives; payments go on', async () => {
    const raw = (m: Record<string, unknown>) => host.call(m)
    const bad: unknown[] = [-2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '5', null, 1e300, 2 ** 60, Number.MAX_SAFE_INTEGER + 2, 2n ** 64n - 1n, -(2n ** 64n)]
    for (const v of bad) {
      expect(refusalCode(await raw({ type: 'catchUp', storedThrough: v, snapshotVersion: 0 }))).toBe('message_invalid')
      expect(refusalCode(await raw({ type: 'catchUp', storedThrough: -1, snapshotVersion: v }))).toBe('message_invalid')
    }
    expect(refusalCode(await raw({ type: 'catchUp', storedThrough: -1 }))).toBe('message_invalid')
    expect(refusalCode(await raw({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0, extra: 1 }))).toBe('message_invalid')
    for (const v of [Number.MAX_SAFE_INTEGER]) {
      const r = await host.call({ type: 'catchUp', storedThrough: v, snapshotVersion: v })
      expect(r.ok).toBe(true)
      expect(r.persist).toMatchObject({ entries: [], checkpoint: null, sealed: null })
    }
    const p = pay()
    const ok = await host.agentSign(p)
    expect(ok.ok).toBe(true)
    const receipt = (ok as { result: AgentSignOk }).result.receipt
    expect(await verifyPayment(wallet, p.parsed, (ok as { result: AgentSignOk }).result.signature)).toBe(true)
    expect(ok.persist!.entries.map(seqOf)).toContain(receipt.seq) // the entry still travels with its signature
    const after = await host.call({ type: 'catchUp', storedThrough: receipt.seq - 1, snapshotVersion: host.latestSnapshot()!.version })
    expect(after.persist!.entries.map(seqOf)).toEqual([receipt.seq])
  })

  it('2,000 catchUps with random numbers pipelined with 100 payments and 50 denials: all answered, all within policy', async () => {
    const version = host.latestSnapshot()!.version
    const head = Math.max(...host.entries.map(seqOf))
    const calls: Array<Promise<ResponseFrame>> = []
    const pays: Array<{ deny: boolean; r: ReturnType<typeof pay>; a: Promise<ResponseFrame> }> = []
    for (let i = 0; i < 2_000; i++) {
      calls.push(host.call({ type: 'catchUp', storedThrough: Math.max(-1, head - 5 + Math.floor(Math.random() * 400)), snapshotVersion: Math.floor(Math.random() * (version + 3)) }))
      if (i % 13 === 0) {
        const deny = i % 39 === 0
        const r = pay(deny ? 5_000n : 1n)
        pays.push({ deny, r, a: host.agentSign(r) })
      }
    }
    const t0 = Date.now()
    const answers = await Promise.all(calls)
    expect(answers.every((a) => a.ok)).toBe(true)
    for (const { deny, r, a } of pays) {
      const g = await a
      if (deny) {
        expect(refusalCode(g)).toBe('policy_per_tx_cap_exceeded')
        expect(hasSignature(g)).toBe(false)
      } else {
        expect(g.ok).toBe(true)
        expect(await verifyPayment(wallet, r.parsed, (g as { result: AgentSignOk }).result.signature)).toBe(true)
      }
    }
    expect(Date.now() - t0).toBeLessThan(30_000)
    expect((await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
  }, 60_000)

  it('a full buffer of unstored entries (the 16 MiB bound) re-sent by 20 catchUps on 4 connections: the worst stall stays bounded', async () => {
    const context = { resourceUrl: `https://x.example/${'u'.repeat(2000)}`, reason: 'r'.repeat(280) }
    const n = 8_300
    const t0 = Date.now()
    const denials: Array<Promise<ResponseFrame>> = []
    for (let i = 0; i < n; i++) {
      denials.push(host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 5_000n }), context })))
      if (i % 500 === 499) {
        await Promise.all(denials.slice(-500))
      }
    }
    const codes = new Set((await Promise.all(denials)).map(refusalCode))
    expect([...codes]).toEqual(['policy_per_tx_cap_exceeded'])
    const fillMs = Date.now() - t0
    const flood = await host.connect()
    const one0 = Date.now()
    const one = await flood.call({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0 })
    const oneMs = Date.now() - one0
    expect(one.ok).toBe(true)
    const bytes = one.persist!.entries.reduce((a, t) => a + t.length, 0) + (one.persist!.sealed?.blob.length ?? 0)
    // 4 connections × 5 catchUps at once (each stays under the 64 MiB a connection may leave unsent), while the
    // honest connection asks hello and pays.
    const conns = [flood, ...(await Promise.all([1, 2, 3].map(() => host.connect())))]
    const f0 = Date.now()
    const floods = conns.flatMap((c) => Array.from({ length: 5 }, () => c.call({ type: 'catchUp', storedThrough: -1, snapshotVersion: 0 })))
    const h0 = Date.now()
    await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    const helloMs = Date.now() - h0
    const p = pay()
    const s0 = Date.now()
    const ok = await host.agentSign(p)
    const signMs = Date.now() - s0
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(wallet, p.parsed, (ok as { result: AgentSignOk }).result.signature)).toBe(true)
    const late = new Promise<'cut'>((r) => setTimeout(() => r('cut'), 15_000))
    const answered = (await Promise.all(floods.map((f) => Promise.race([f, late])))).filter((r) => r !== 'cut' && r.ok).length
    const floodMs = Date.now() - f0
    for (const c of conns) c.close()
    console.log(
      `catchUp stall: ${n} denials in ${fillMs} ms; one catchUp re-sends ${one.persist!.entries.length} entries + snapshot ` +
        `= ${(bytes / 2 ** 20).toFixed(1)} MiB in ${oneMs} ms; 20 at once on 4 connections: ${answered} answered in ${floodMs} ms; ` +
        `hello meanwhile ${helloMs} ms, a payment ${signMs} ms`,
    )
    expect(one.persist!.entries.length).toBeLessThanOrEqual(8_193)
    expect(helloMs).toBeLessThan(15_000)
    expect(signMs).toBeLessThan(15_000)
  }, 180_000)

  it('multi-byte agent text: the unstored bound counts UTF-8 bytes, so a catchUp answer always fits one frame', async () => {
    // '€' is one UTF-16 unit and three UTF-8 bytes: counted in units, 16 Mi of them were up to 48 MiB on the wire.
    const context = { resourceUrl: `https://x.example/${'€'.repeat(2000)}`, reason: '€'.repeat(280) }
    const version = host.latestSnapshot()!.version
    const storedThrough = Math.max(...host.entries.map(seqOf))
    expect((await host.call({ type: 'catchUp', storedThrough, snapshotVersion: version })).ok).toBe(true) // all stored
    const denials: Array<Promise<ResponseFrame>> = []
    for (let i = 0; i < 4_400; i++) {
      denials.push(host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 5_000n }), context })))
      if (i % 500 === 499) await Promise.all(denials.slice(-500))
    }
    expect(new Set((await Promise.all(denials)).map(refusalCode))).toEqual(new Set(['policy_per_tx_cap_exceeded']))
    const r = await host.call({ type: 'catchUp', storedThrough, snapshotVersion: version })
    expect(r.ok ? 'ok' : r.error.code).toBe('ok')
    const bytes = r.persist!.entries.reduce((a, t) => a + Buffer.byteLength(t), 0) + (r.persist!.sealed?.blob.length ?? 0)
    console.log(`multi-byte catchUp: ${r.persist!.entries.length} entries, ${(bytes / 2 ** 20).toFixed(1)} MiB`)
    expect(bytes).toBeLessThan(32 * 2 ** 20)
  }, 120_000)
})
