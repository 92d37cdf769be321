import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Concurrent stranger loops; the honest owner's concurrent creates (≤ walletsPerOwner); OWNER_LIMITS.walletsTotal (shared/owner/ownerLimits.ts). */
const STRANGERS = 16
const HONEST = 4
const WALLETS_TOTAL = 32

/**
 * Attack (stranger, open admission; rt36a/rt37's note, issue 12 stage B): a CreateWallet's view carries the enclave's
 * create counts (every owner's nonces, all wallets). Before create37 the signer applied the decision only at the very
 * counts of its view, so any create landing between view and decision made it governance_stale. A stranger who creates
 * wallets of their own (a fresh address each, all legitimate) without pause lands one in every window: the honest
 * owner's CreateWallet was governance_stale through all 8 relay rounds. The signer now re-checks at apply what matters
 * (the act's nonce unused, admission, the limits with one more wallet): others' creates no longer make it stale.
 */
describe('adversarial: a stranger creating wallets of their own stales an owner\'s CreateWallet (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const create = async (auditChain: string, label: string, account = privateKeyToAccount(generatePrivateKey())) =>
    postOwnerAct(stack.url, await signOwnerAct({ account, primaryType: 'CreateWallet', message: { owner: account.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }))

  it(`the owner's ${HONEST} concurrent CreateWallets land while ${STRANGERS} stranger loops create wallets of their own`, async () => {
    const auditChain = await auditChainOf(stack.url)
    const listed = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    const before = ((await listed.json()) as { wallets: unknown[] }).wallets.length
    // The stranger may fill the enclave but for the owner's wallets (else the owner's would be limit_wallets_total: fair).
    let budget = WALLETS_TOTAL - before - HONEST
    let [stop, landed, stale] = [false, 0, 0]
    const stranger = async () => {
      while (!stop && budget > 0) {
        budget--
        const r = await create(auditChain, 'stranger')
        if (r.status === 200) landed++
        else if (r.json.code === 'governance_stale') stale++
        else expect.fail(`stranger's create refused: ${JSON.stringify(r.json)}`)
      }
    }
    const loops = Array.from({ length: STRANGERS }, stranger)
    try {
      while (landed < 1) await new Promise((r) => setTimeout(r, 2)) // the flood is on
      const owner = privateKeyToAccount(generatePrivateKey())
      // Its own creates no longer stale each other either (each fits the limit with the others counted).
      const answers = await Promise.all(Array.from({ length: HONEST }, (_, i) => create(auditChain, `honest-${i}`, owner)))
      for (const r of answers) expect(r.status, `${JSON.stringify(r.json)} (stranger: ${landed} created, ${stale} stale)`).toBe(200)
      expect(answers.map((r) => String(r.json.owner).toLowerCase())).toEqual(Array(HONEST).fill(owner.address.toLowerCase()))
    } finally {
      stop = true
      await Promise.all(loops)
    }
    const after = ((await (await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })).json()) as { wallets: unknown[] }).wallets.length
    expect(after).toBe(before + landed + HONEST)
    expect(after).toBeLessThanOrEqual(WALLETS_TOTAL)
  })
})
