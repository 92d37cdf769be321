import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { policyHash } from '../../shared/schemas/policy.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const USDC = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
const USDC_CHECKSUM = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = `0x${'22'.repeat(20)}`

/**
 * Attack (an owner, or a co-owner alone where one signature sets a policy; rt37 on diet36's policyShape, ea7605d): the
 * signer now re-reads stored policies by their shape only, without the cross-field rules (no duplicate budgets, tokens,
 * rule or pre-approval ids; typed_data allowed only with matchers). Each policy below passes the shape and reads
 * looser by the signer's "first of duplicates decides" than its author's last entry says (a budget of 10^18 before the
 * 1,000 one, a token's decimals 0 before 6, a wide allow before a narrow one of the same id, typed data with no
 * matchers). Signed by the owner and sent through the real host, governance (its own process) must refuse every one
 * with policy_invalid before a decision reaches the signer: nothing is installed and the seq is not used, so the valid
 * policy then lands at the same seq and is the one in force.
 */
describe('adversarial: an owner signs policies that pass the shape but break the cross-field rules (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })
  const post = (body: unknown) => postOwnerAct(stack.url, body)

  it('governance refuses each (policy_invalid); the valid policy then lands at the same seq', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await auditChainOf(stack.url)
    const created = await post(await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'w', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }))
    expect(created.status).toBe(200)
    const wallet = created.json.wallet as string
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const agentId = agentIdFromPublicKey(raw)
    expect((await post(await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: '1' } }))).status).toBe(200)

    const token = { chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }
    const budget = { chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '5000' }
    const pay = { id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }
    const valid = { version: 1, wallet, agentId, timeZone: 'UTC', tokens: [token], budgets: [budget], rules: [pay] }
    const broken: Record<string, object> = {
      'a loose budget before the tight one (asset in checksum case)': { ...valid, budgets: [{ ...budget, asset: USDC_CHECKSUM, perTx: '1000000000000000000', rolling24h: '1000000000000000000' }, budget] },
      'a token with decimals 0 before the real one': { ...valid, tokens: [{ ...token, asset: USDC_CHECKSUM, decimals: 0 }, token] },
      'a wide allow before the narrow rule of the same id': { ...valid, rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009', 'erc20_transfer', 'native_transfer'] }, pay] },
      'typed data allowed with no matchers': { ...valid, rules: [pay, { id: 'login', effect: 'allow', kinds: ['typed_data'] }] },
      'two pre-approvals of one id': { ...valid, preApprovals: [1, 2].map((n) => ({ id: 'pa', kinds: ['eip3009'], chainId: 84532, asset: USDC, payTo: PAY_TO, maxAmountPerTx: String(n * 1000) })) },
    }
    const setPolicy = async (p: object) =>
      post({ ...(await signOwnerAct({ account: owner, primaryType: 'SetPolicy', message: { wallet, agentId, version: '1', policyHash: policyHash(p), seq: '2' } })), policy: canonicalJson(p) })
    for (const [name, p] of Object.entries(broken)) {
      const r = await setPolicy(p)
      expect([r.status, r.json.code], name).toEqual([400, 'policy_invalid'])
    }
    const ok = await setPolicy(valid)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const view = await fetch(`${stack.url}/v1/wallets/${wallet}`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    const w = (await view.json()) as { agents: Array<{ agentId: string; policy: { hash: string } | null }> }
    expect(w.agents.find((a) => a.agentId === agentId)?.policy?.hash).toBe(policyHash(valid))
  })
})
