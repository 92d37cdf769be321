import { sign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { TOKEN, TRANSFER_TYPES, auditEntries, eip3009, paymentPolicy, postSign, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { type CutProxy, cutProxy } from '../helpers/cutProxy.js'
import { waitFor } from '../helpers/startStack.js'

/**
 * Attack (exactly-once across session loss): a payment goes out MACed in a session; the enclave signs it, the answer
 * is lost on the way to the agent (the SDK resends the same MACed bytes and gets the stored answer), and then the
 * enclave restarts, forgetting the session. The MACed bytes resent after the restart still get the stored answer
 * (identical signature, nothing decided), and the same text re-authenticated under Ed25519 — what the SDK sends
 * after session_unknown — is not a second request: request_nonce_reused, no signature. One sign_allowed, one spend.
 */
describe('adversarial: a MACed payment’s answer is dropped, then the enclave restarts', () => {
  let proxy: CutProxy

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '5000', rolling24h: '50000' }))
  beforeAll(async () => {
    proxy = await cutProxy(s.stack.url, { path: '/v1/agent/sign' })
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const typed = (op: ReturnType<typeof eip3009>) => {
    const m = op.typedData.message as Record<string, string>
    return {
      domain: { ...op.typedData.domain, verifyingContract: TOKEN } as never,
      types: { TransferWithAuthorization: TRANSFER_TYPES },
      primaryType: 'TransferWithAuthorization' as const,
      message: { ...m, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!) } as never,
    }
  }
  const signBodies = () =>
    proxy.received
      .flatMap((t) => t.split(/(?=POST \/v1\/)/))
      .filter((t) => t.startsWith('POST /v1/agent/sign '))
      .map((t) => JSON.parse(t.slice(t.indexOf('\r\n\r\n') + 4)) as { request: string; signature: string })

  it('one decision: the MACed resend gets the stored answer before and after the restart; the Ed25519 copy is refused', async () => {
    const account = bursarAccount({ host: proxy.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
    await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: 1000n }))) // Ed25519; the session opens meanwhile
    await waitFor(() => proxy.received.some((t) => t.includes('POST /v1/agent/session ') && t.includes('openSession')), 10_000, 'session open')
    // Until the SDK's payments go out MACed (suite39: a fixed 300 ms after the open was sent could pass before its
    // answer reached the SDK on a loaded machine, and the payment below then went out under Ed25519).
    await waitFor(async () => {
      proxy.received.length = 0
      await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: 1n })))
      return signBodies().some((b) => b.signature.startsWith('s1:'))
    }, 20_000, 'payments MACed in the session')
    proxy.received.length = 0

    const op = eip3009({ wallet: s.wallet, value: 1001n })
    proxy.cutNext(1)
    const signature = await account.signTypedData(typed(op))
    expect(proxy.cut).toBe(1)
    expect(await verifyEip3009(s.wallet, op, signature)).toBe(true)
    const bodies = signBodies()
    expect(bodies.length).toBeGreaterThanOrEqual(2)
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1)
    const body = bodies[0]!
    expect(body.signature.startsWith('s1:')).toBe(true)
    const requestId = (JSON.parse(body.request) as { nonce: string }).nonce

    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady(20_000)

    const again = await postSign(s.stack.url, body)
    expect(again.status).toBe(200)
    expect(again.json.signature).toBe(signature)
    const ed = { request: body.request, signature: sign(null, Buffer.from(body.request, 'utf8'), ed25519PrivateKeyFromSeed(s.agentKey.privateKey)).toString('hex') }
    const reauth = await postSign(s.stack.url, ed)
    expect(reauth.json.code).toBe('request_nonce_reused')
    expect(reauth.json.signature).toBeUndefined()

    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e: AuditEntry) => e.requestId === requestId)
    expect(entries.map((e) => e.event)).toEqual(['sign_allowed'])
  }, 90_000)
})
