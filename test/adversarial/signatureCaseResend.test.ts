import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { auditEntries, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Attack: whoever holds a copy of an agent's signed bytes (a proxy, a log, anything on the path) resends them FIRST
 * with the Ed25519 signature's hex upper-cased (or mixed). The enclave decodes hex in either case, so the copy is
 * the same signed request and verifies. If the host told identical requests apart by the raw signature string, the
 * attacker's copy would be decided (its answer — the signature — goes to the attacker) and the agent's own copy
 * and every resend of it would get `request_nonce_reused`: a definitive refusal, after which the agent signs a
 * fresh authorization while the attacker holds a valid one for the same purchase (paid twice). The signature's
 * case must not matter: every copy gets the one answer, one audit entry.
 */
describe('adversarial: a resend with the signature hex in another case is the same request', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }))

  it('an upper-cased copy sent first: the agent gets the same signature, not request_nonce_reused; one entry', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const nonce = (JSON.parse(body.request) as { nonce: string }).nonce
    const upper = { request: body.request, signature: body.signature.toUpperCase() }
    expect(upper.signature).not.toBe(body.signature)

    const attacker = await postSign(s.stack.url, upper)
    expect(attacker.status).toBe(200)
    const genuine = await postSign(s.stack.url, body)
    expect([genuine.status, genuine.json.code]).toEqual([200, undefined])
    expect(genuine.json.signature).toBe(attacker.json.signature)
    expect(await verifyEip3009(s.wallet, op, genuine.json.signature as Hex)).toBe(true)
    // A later resend of the agent's own bytes: the stored answer again.
    const resend = await postSign(s.stack.url, body)
    expect(resend.json.signature).toBe(genuine.json.signature)

    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.requestId === nonce)
    expect(entries.map((e) => e.event)).toEqual(['sign_allowed'])
  }, 60_000)

  it('mixed-case copies racing the genuine one in flight: all get the one answer; one entry', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const nonce = (JSON.parse(body.request) as { nonce: string }).nonce
    const mixed = (i: number) => ({
      request: body.request,
      signature: [...body.signature].map((c, j) => ((i >> j % 8) & 1 ? c.toUpperCase() : c)).join(''),
    })
    const results = await Promise.all([...Array.from({ length: 20 }, (_, i) => postSign(s.stack.url, mixed(i + 1))), postSign(s.stack.url, body)])
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]))
    expect(new Set(results.map((r) => r.json.signature)).size).toBe(1)
    expect(await verifyEip3009(s.wallet, op, results[0]!.json.signature as Hex)).toBe(true)
    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.requestId === nonce)
    expect(entries).toHaveLength(1)
  }, 60_000)

  it('honest traffic: a fresh request is signed; other content under a used nonce is still request_nonce_reused', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const fresh = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op }))
    expect(fresh.status).toBe(200)
    expect(await verifyEip3009(s.wallet, op, fresh.json.signature as Hex)).toBe(true)
    const used = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }) })
    expect((await postSign(s.stack.url, used)).status).toBe(200)
    const nonce = (JSON.parse(used.request) as { nonce: string }).nonce
    const other = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: 2n }), extra: { nonce } })
    const refused = await postSign(s.stack.url, other)
    expect([refused.status, refused.json.code, refused.json.signature]).toEqual([409, 'request_nonce_reused', undefined])
    void randomBytes
  }, 60_000)
})
