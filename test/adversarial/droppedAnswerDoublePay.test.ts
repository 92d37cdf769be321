import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { MERCHANT, type StackWithAgent, TOKEN, TRANSFER_TYPES, auditEntries, eip3009, paymentPolicy, postSign, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { type CutProxy, cutProxy } from '../helpers/cutProxy.js'
import { waitFor } from '../helpers/startStack.js'

const AMOUNT = 1_000n

/**
 * Attack (or just a bad network): the host's answer to a payment the enclave signed is lost on the way to the
 * agent. A retrying agent must not pay twice: the SDK resends the SAME signed bytes and the host answers the resend
 * with the stored answer (identical signature); the ledger and the audit hold one entry.
 */
describe('adversarial: the answer to a signed payment is dropped; the resend must not pay twice', () => {
  let proxy: CutProxy

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }))
  beforeAll(async () => {
    proxy = await cutProxy(s.stack.url, { path: '/v1/agent/sign' })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  it('SDK resend after a cut answer gets the identical signature; one sign_allowed entry; the identical bytes later get it again', async () => {
    const account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const m = op.typedData.message as Record<string, string>
    proxy.cutNext(1)
    const signature = await account.signTypedData({
      domain: { ...op.typedData.domain, verifyingContract: TOKEN } as never,
      types: { TransferWithAuthorization: TRANSFER_TYPES },
      primaryType: 'TransferWithAuthorization',
      message: { ...m, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!) } as never,
    })
    expect(proxy.cut).toBe(1)
    expect(await verifyEip3009(s.wallet, op, signature)).toBe(true)

    // What the agent sent: the same envelope on both connections (a resend, never a second request).
    const envelopes = proxy.received
      .flatMap((t) => t.split(/(?=POST \/v1\/)/))
      .filter((t) => t.startsWith('POST /v1/agent/sign '))
      .map((t) => t.slice(t.indexOf('\r\n\r\n') + 4))
    expect(envelopes.length).toBeGreaterThanOrEqual(2)
    expect(new Set(envelopes).size).toBe(1)
    const body = JSON.parse(envelopes[0]!) as { request: string; signature: string }
    const requestId = (JSON.parse(body.request) as { nonce: string }).nonce

    // The identical bytes once more, straight to the host: the same answer, nothing new decided.
    const again = await postSign(s.stack.url, body)
    expect(again.status).toBe(200)
    expect(again.json.signature).toBe(signature)

    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter(
      (e: AuditEntry) => e.event === 'sign_allowed' || e.event === 'sign_denied',
    )
    const forRequest = entries.filter((e) => e.requestId === requestId)
    expect(forRequest).toHaveLength(1)
    expect(forRequest[0]!.event).toBe('sign_allowed')
    // One ledger entry: exactly one spend event in the whole log for this agent.
    const spends = entries.flatMap((e) => (e.ledger as { type: string }[]).filter((l) => l.type === 'spend'))
    expect(spends).toHaveLength(1)

    // The owner sees the request: signed, and fetched by the agent (the resends), more than once.
    const res = await fetch(`${s.stack.url}/v1/audit/entries?request=${requestId}`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    const page = (await res.json()) as { entries: AuditEntry[]; answers: { signed: boolean; fetchCount: number; fetchedAt: number | null }[] }
    expect(page.entries).toHaveLength(1)
    expect(page.answers).toHaveLength(1)
    expect(page.answers[0]!.signed).toBe(true)
    expect(page.answers[0]!.fetchCount).toBeGreaterThanOrEqual(2)
  }, 60_000)

  it('the same nonce with other bytes (another payee under the same nonce) is refused: request_nonce_reused', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const first = await postSign(s.stack.url, signed(s, op))
    expect(first.status).toBe(200)
    const nonce = lastNonce
    const other = await postSign(s.stack.url, signed(s, eip3009({ wallet: s.wallet, value: AMOUNT, to: MERCHANT }), nonce))
    expect(other.status).toBe(409)
    expect(other.json.code).toBe('request_nonce_reused')
    expect(other.json.signature).toBeUndefined()
  }, 30_000)

  it('inside a MAC session too: the resend is the same s1: envelope and gets the identical signature; one decision', async () => {
    const account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    const typed = (op: ReturnType<typeof eip3009>) => {
      const m = op.typedData.message as Record<string, string>
      return {
        domain: { ...op.typedData.domain, verifyingContract: TOKEN } as never,
        types: { TransferWithAuthorization: TRANSFER_TYPES },
        primaryType: 'TransferWithAuthorization' as const,
        message: { ...m, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!) } as never,
      }
    }
    await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: 1n }))) // the session opens in the background
    // Until the SDK's payments go out MACed (suite39: was a fixed 500 ms, which a loaded machine could outlast).
    const macedSigns = () => proxy.received.flatMap((t) => t.split(/(?=POST \/v1\/)/)).filter((t) => t.startsWith('POST /v1/agent/sign ') && t.includes('"s1:'))
    await waitFor(async () => {
      proxy.received.length = 0
      await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: 1n })))
      return macedSigns().length > 0
    }, 20_000, 'payments MACed in the session')
    const op = eip3009({ wallet: s.wallet, value: 1n })
    proxy.cutNext(1)
    const signature = await account.signTypedData(typed(op))
    expect(await verifyEip3009(s.wallet, op, signature)).toBe(true)
    const payment = (op.typedData.message as Record<string, string>).nonce!
    const envelopes = proxy.received
      .flatMap((t) => t.split(/(?=POST \/v1\/)/))
      .filter((t) => t.startsWith('POST /v1/agent/sign ') && t.includes(payment))
      .map((t) => t.slice(t.indexOf('\r\n\r\n') + 4))
    expect(envelopes.length).toBeGreaterThanOrEqual(2)
    expect(new Set(envelopes).size).toBe(1)
    const body = JSON.parse(envelopes[0]!) as { request: string; signature: string }
    expect(body.signature.startsWith('s1:')).toBe(true)
    const requestId = (JSON.parse(body.request) as { nonce: string }).nonce
    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e: AuditEntry) => e.requestId === requestId)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.event).toBe('sign_allowed')
  }, 60_000)
})

let lastNonce = ''

/** A signed request body with a chosen nonce (the SDK never reuses one; an attacker or a buggy client might). */
function signed(s: StackWithAgent, op: ReturnType<typeof eip3009>, nonce = randomBytes(16).toString('hex')) {
  lastNonce = nonce
  const issuedAt = Date.now()
  const text = JSON.stringify({ v: 1, agentId: s.agentKey.agentId, wallet: s.wallet as Hex, nonce, issuedAt, expiresAt: issuedAt + 10_000, ...op })
  return { request: text, signature: sign(null, Buffer.from(text, 'utf8'), ed25519PrivateKeyFromSeed(s.agentKey.privateKey)).toString('hex') }
}
