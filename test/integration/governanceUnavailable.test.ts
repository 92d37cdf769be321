import { auditChainOf } from '../helpers/auditChainOf.js'
import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Issue 12 stage B: the host cannot reach governance's process (here: pointed at a socket nobody listens on). An
 * owner act answers governance_unavailable (HTTP 503, saying what to do) after a bounded wait, and nothing is applied;
 * the signer keeps serving reads.
 */
describe('governance unreachable: owner acts answer governance_unavailable, nothing applied', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ env: { BURSAR_GOVERNANCE: `unix:/tmp/bursar-no-governance-${randomBytes(6).toString('hex')}.sock` } })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('a CreateWallet answers 503 governance_unavailable and creates no wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'x', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await auditChainOf(stack.url) } })
    const t0 = Date.now()
    const r = await fetch(`${stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(r.status).toBe(503)
    expect(((await r.json()) as { code: string }).code).toBe('governance_unavailable')
    // Bounded by the host's 5 s wait for governance's connection, not by the client's patience (suite39: 9 s → 20 s,
    // slack for a loaded machine; still well below the test's 60 s).
    expect(Date.now() - t0).toBeLessThan(20_000)
    const wallets = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    expect(((await wallets.json()) as { wallets: unknown[] }).wallets).toEqual([])
  })

  it('/readyz reports governance unreachable and stays ready (readiness is the signer\'s)', async () => {
    const r = await fetch(`${stack.url}/readyz`)
    expect(r.status).toBe(200)
    expect(((await r.json()) as { governance: unknown }).governance).toMatchObject({ state: 'unreachable', lastError: expect.any(String) })
  })
})
