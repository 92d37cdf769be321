import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { paymentPolicy } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (stranger): GET /v1/owner/wallets filters by the signed owner token, and the audit log needs an owner
 * token too — but GET /v1/wallets and /v1/wallets/:address answer anyone, with every wallet's owners, agents,
 * full policy text (payee allowlists, caps) and pending approval summaries. The owner scoping of the console's
 * reads protects nothing while the unauthenticated view serves the same data.
 *
 * Fix: both routes need the owner read token (that owner's wallets only) or the operator token; OwnerClient (CLI,
 * console, scripts) sends its owner's token with every wallet read.
 */
describe('stranger reads every wallet through the public wallet view', () => {
  let stack: Stack
  let wallet: string
  beforeAll(async () => {
    stack = await startStack({})
    const owner = privateKeyToAccount(generatePrivateKey())
    ;({ wallet } = await new OwnerClient(stack.url, owner).createWallet('private'))
    await setupAgent({ host: stack.url, owner, wallet: wallet as `0x${string}`, policy: paymentPolicy({ perTx: '100000', rolling24h: '1000000' }) })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('without an owner token, no wallet (owners, policy text, pending) is served', async () => {
    const all = await fetch(`${stack.url}/v1/wallets`)
    const one = await fetch(`${stack.url}/v1/wallets/${wallet}`)
    expect([all.status, one.status]).toEqual([401, 401])
    const text = `${await all.text()} ${await one.text()}`
    expect(text.toLowerCase()).not.toContain(wallet.toLowerCase())
  })

  it("another owner's token reads only that owner's wallets: the victim's is not listed and 404s", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey())
    const own = await new OwnerClient(stack.url, stranger).createWallet('mine')
    const authorization = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: stranger, host: stack.url, expiresAt: Date.now() + 60_000 })}`
    const all = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization } })
    const listed = ((await all.json()) as { wallets: { address: string }[] }).wallets.map((w) => w.address.toLowerCase())
    expect(listed).toEqual([own.wallet.toLowerCase()])
    const one = await fetch(`${stack.url}/v1/wallets/${wallet}`, { headers: { authorization } })
    expect(one.status).toBe(404)
    expect(((await one.json()) as { code: string }).code).toBe('wallet_not_found')
    // The operator token still reads every wallet (BURSAR_AUDIT_TOKEN).
    const op = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    expect((await op.text()).toLowerCase()).toContain(wallet.toLowerCase())
  })
})
