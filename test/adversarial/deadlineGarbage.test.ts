import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import { auditEntries, eip3009, paymentPolicy, postSign, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Attack (a malicious or buggy agent, signing its own requests): deadlines that are not numbers, negative, fractional,
 * infinite, absurdly far, or already past — hoping for a signature past the deadline, a request that lives longer
 * than the replay window (so a copy could be decided twice), a host that waits forever, or a nonce reserved by a
 * refused copy so the genuine request is refused. And resends after the deadline: they get the stored answer, never
 * a new decision.
 */
describe('adversarial: garbage and past deadlines', () => {
  /** Signs a request text built by hand (expiresAt spliced in as raw JSON, so 1e400 or "x" reach the host as sent). */
  const raw = (nonce: string, issuedAt: number, expiresAtJson: string | null, value = AMOUNT) => {
    const op = eip3009({ wallet: s.wallet, value })
    const head = JSON.stringify({ v: 1, agentId: s.agentKey.agentId, wallet: s.wallet, nonce, issuedAt })
    const rest = JSON.stringify(op).slice(1)
    const text = `${head.slice(0, -1)}${expiresAtJson === null ? '' : `,"expiresAt":${expiresAtJson}`},${rest}`
    const signature = sign(null, Buffer.from(text, 'utf8'), ed25519PrivateKeyFromSeed(s.agentKey.privateKey)).toString('hex')
    return { body: { request: text, signature }, op }
  }
  const entriesOf = async (nonce: string) => (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.requestId === nonce)

  // Requests issued 500 ms in the past must be after the enclave's start floor
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }), { floorMs: 2_600 })

  it.each<[string, (now: number) => string | null, string]>([
    ['missing', () => null, 'request_invalid'],
    ['a string', (n) => `"${n + 5_000}"`, 'request_invalid'],
    ['null', () => 'null', 'request_invalid'],
    ['negative', () => '-1', 'request_invalid'],
    ['fractional', (n) => `${n + 5_000}.5`, 'request_invalid'],
    ['1e400 (Infinity once parsed)', () => '1e400', 'request_invalid'],
    ['1e300 (absurdly far)', () => '1e300', 'request_invalid'],
    ['2^53 + 1', () => '9007199254740993', 'request_invalid'],
    ['one ms past the replay window', (n) => String(n + 30_001), 'request_deadline_invalid'],
    ['equal to issuedAt', (n) => String(n), 'request_deadline_invalid'],
  ])('expiresAt %s: %s, nothing audited; the same nonce with a good deadline is then signed', async (_name, exp, code) => {
    const nonce = randomBytes(16).toString('hex')
    const now = Date.now()
    const bad = await postSign(s.stack.url, raw(nonce, now, exp(now)).body)
    // The host did not wait on the absurd deadline: it answered 400 with the validation's code (a wait on it would hang
    // past this test's timeout). suite40: the wall bound that was here (< 5 s) added only a loaded CI box's flake.
    expect([bad.status, bad.json.code, bad.json.signature]).toEqual([400, code, undefined])
    expect(await entriesOf(nonce)).toHaveLength(0)
    // The refused copy reserved nothing (host store or enclave replay cache): the agent's good request goes through.
    const good = raw(nonce, Date.now(), String(Date.now() + 10_000))
    const ok = await postSign(s.stack.url, good.body)
    expect([ok.status, ok.json.code]).toEqual([200, undefined])
    expect(await verifyEip3009(s.wallet, good.op, ok.json.signature as Hex)).toBe(true)
  }, 30_000)

  it('a deadline already past on arrival: request_expired, audited once; resends get the same refusal, never a signature', async () => {
    const nonce = randomBytes(16).toString('hex')
    const now = Date.now()
    const { body } = raw(nonce, now - 500, String(now - 1))
    const answers = await Promise.all([postSign(s.stack.url, body), postSign(s.stack.url, body)])
    answers.push(await postSign(s.stack.url, body))
    for (const a of answers) expect([a.status, a.json.code, a.json.signature]).toEqual([409, 'request_expired', undefined])
    const e = await entriesOf(nonce)
    expect(e.map((x) => [x.event, x.code, x.signedHash])).toEqual([['sign_denied', 'request_expired', null]])
  }, 30_000)

  it('a signed request resent after its deadline gets the stored signature, not a new decision', async () => {
    const nonce = randomBytes(16).toString('hex')
    const now = Date.now()
    const { body, op } = raw(nonce, now, String(now + 1_500))
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBe(200)
    await new Promise((r) => setTimeout(r, Math.max(now + 1_700 - Date.now(), 0)))
    const late = await postSign(s.stack.url, body)
    expect([late.status, late.json.signature]).toEqual([200, first.json.signature])
    expect(await verifyEip3009(s.wallet, op, late.json.signature as Hex)).toBe(true)
    expect((await entriesOf(nonce)).map((x) => x.event)).toEqual(['sign_allowed'])
  }, 30_000)
})
