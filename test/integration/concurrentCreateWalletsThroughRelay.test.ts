import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** OWNER_LIMITS.walletsPerOwner (shared/owner/ownerLimits.ts). */
const PER_OWNER = 4

/**
 * Issue 12 stage B + rt36a, create37: a create decision applies only if it still fits the limits when counted again at
 * apply, so the one of concurrent CreateWallets of one owner past the limit is governance_stale. Through the honest host's relay (real host, signer and governance processes) the
 * owner must not see that: the host relays a stale act again (same signed bytes, a fresh view), so all that fit the
 * limit are created, and the one past it gets limit_wallets_per_owner — never a fifth wallet, never governance_stale.
 */
describe('concurrent CreateWallets of one owner through the host relay', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it(`${PER_OWNER + 1} at once: ${PER_OWNER} wallets, the last refused by the limit (relayed again on governance_stale)`, async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await auditChainOf(stack.url)
    const bodies = await Promise.all(
      Array.from({ length: PER_OWNER + 1 }, (_, i) =>
        signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: `c-${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }),
      ),
    )
    const answers = await Promise.all(
      bodies.map(async (b) => {
        const r = await fetch(`${stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })
        return { status: r.status, json: (await r.json()) as { wallet?: string; code?: string } }
      }),
    )
    const created = answers.filter((a) => a.status === 200)
    expect(created.length, JSON.stringify(answers)).toBe(PER_OWNER)
    expect(answers.filter((a) => a.status !== 200).map((a) => a.json.code)).toEqual(['limit_wallets_per_owner'])
    const wallets = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    const mine = ((await wallets.json()) as { wallets: Array<{ owner: string }> }).wallets.filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase())
    expect(mine.length).toBe(PER_OWNER)
  })
})
