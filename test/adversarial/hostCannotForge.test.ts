import { randomBytes } from 'node:crypto'
import { type Hex, type LocalAccount, keccak256, recoverAddress, verifyMessage } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import {
  MERCHANT,
  type MaliciousHost,
  TOKEN,
  TOKEN_ENTRY,
  type TestAgent,
  eip3009,
  hasSignature,
  newAgent,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host makes up what it cannot sign — owner acts under its own
 * key, a policy the owner did not hash, an agent request it edited — or
 * relays agent requests whose EIP-712 domain is not the registry's, or a
 * bare digest to sign. All refused, no signature.
 */
describe('adversarial: the host cannot forge owner acts, policies or signing payloads', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const mallory = privateKeyToAccount(generatePrivateKey())

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  const seq = async () => String((await host.ownerSeq(wallet)) + 1)

  it('owner acts signed by a host key: RegisterAgent / SetPolicy / ResolvePending / Resync → owner_not_authorized; a CreateWallet in the owner’s name → owner_signature_invalid', async () => {
    const hostAgent = newAgent()
    const forged = [
      await signOwnerAct({
        account: mallory,
        primaryType: 'RegisterAgent',
        message: { wallet, agentId: hostAgent.agentId, agentPublicKey: hostAgent.publicKeyHex, label: 'host', seq: await seq() },
      }),
      await signOwnerAct({ account: mallory, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: true, seq: await seq() } }),
      await signOwnerAct({ account: mallory, primaryType: 'ResolvePending', message: { wallet, pendingId: 'p', digest: `0x${'00'.repeat(32)}`, approve: true, seq: await seq() } }),
      await signOwnerAct({ account: mallory, primaryType: 'Resync', message: { wallet, seq: '99' } }),
    ]
    for (const body of forged) expect(refusalCode(await host.call({ type: 'ownerAct', ...body }))).toBe('owner_not_authorized')
    const p = parsePolicy({ ...paymentPolicy({ perTx: '1000000000', rolling24h: '1000000000', version: 9 }), wallet, agentId: agent.agentId })
    const setPolicy = await signOwnerAct({
      account: mallory,
      primaryType: 'SetPolicy',
      message: { wallet, agentId: agent.agentId, version: '9', policyHash: policyHash(p), seq: await seq() },
    })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...setPolicy, policy: JSON.stringify(p) }))).toBe('owner_not_authorized')

    const create = await signOwnerAct({
      account: mallory,
      primaryType: 'CreateWallet',
      message: { owner: owner.address, label: 'x', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await host.auditChain() },
    })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...create }))).toBe('owner_signature_invalid')
    // Garbage and truncated signatures.
    const real = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: true, seq: await seq() } })
    expect(refusalCode(await host.call({ type: 'ownerAct', ...real, signature: `0x${'00'.repeat(65)}` }))).toBe('owner_signature_invalid')
    expect(refusalCode(await host.call({ type: 'ownerAct', ...real, signature: real.signature.slice(0, 100) }))).toBe('owner_signature_invalid')
    // The owner's real act with a field edited (frozen → unfrozen) recovers someone else.
    const edited = { ...real, message: real.message.replace('"frozen":true', '"frozen":false') }
    expect(edited.message).not.toBe(real.message)
    expect(refusalCode(await host.call({ type: 'ownerAct', ...edited }))).toBe('owner_not_authorized')
    // Same act under another primaryType with the same fields subset: not an act the owner signed.
    expect(refusalCode(await host.call({ type: 'ownerAct', ...real, primaryType: 'RevokeAgent' }))).toBe('owner_act_invalid')

    const info = (await host.wallets()).find((w) => w.address === wallet)!
    expect(info.agents.map((a) => a.agentId)).toEqual([agent.agentId])
    expect(info.agents[0]!.frozen).toBe(false)
    expect(info.agents[0]!.policy!.version).toBe(1)
    expect(info.ownerSeq).toBe(2)
  })

  it('the owner’s SetPolicy with a host-modified policy JSON (payTo added, caps raised) → policy_hash_mismatch', async () => {
    const p = parsePolicy({ ...paymentPolicy({ perTx: '5000', rolling24h: '100000', version: 2 }), wallet, agentId: agent.agentId })
    const body = await signOwnerAct({
      account: owner,
      primaryType: 'SetPolicy',
      message: { wallet, agentId: agent.agentId, version: '2', policyHash: policyHash(p), seq: await seq() },
    })
    const hostsPayee = `0x${'ee'.repeat(20)}`
    const variants = [
      { ...p, rules: [{ ...p.rules[0]!, payTo: { in: [MERCHANT, hostsPayee] } }] },
      { ...p, budgets: [{ ...p.budgets[0]!, perTx: '5001' }] },
      { ...p, rules: [...p.rules, { id: 'host', effect: 'allow', kinds: ['raw_message'] }] },
    ]
    for (const v of variants) expect(refusalCode(await host.call({ type: 'ownerAct', ...body, policy: JSON.stringify(v) }))).toBe('policy_hash_mismatch')
    // The policy the owner hashed, key order shuffled by the host: same canonical hash, accepted as what the owner signed.
    const shuffled = JSON.stringify(Object.fromEntries(Object.entries(p).reverse()))
    expect((await host.call({ type: 'ownerAct', ...body, policy: shuffled })).ok).toBe(true)
  })

  it('typed data whose domain is not the registry’s: fake name/version, another verifyingContract or chain, an extra field → refused', async () => {
    const cases: [string, Parameters<typeof eip3009>[0]['domain'], string][] = [
      ['fake name', { name: 'USD Coin (fake)' }, 'sign_domain_mismatch'],
      ['fake version', { version: '1' }, 'sign_domain_mismatch'],
      ['other verifyingContract', { verifyingContract: `0x${'12'.repeat(20)}` }, 'sign_domain_not_in_registry'],
      ['other chain', { chainId: 1 }, 'sign_domain_not_in_registry'],
      ['salt added', { salt: `0x${'00'.repeat(32)}` }, 'sign_eip3009_shape_invalid'],
    ]
    for (const [name, domain, code] of cases) {
      const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n, domain }) }))
      expect(`${name}: ${refusalCode(r)}`).toBe(`${name}: ${code}`)
      expect(hasSignature(r)).toBe(false)
    }
    // The same edits made by the host to a request the agent signed with the right domain → agent_signature_invalid.
    const good = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })
    const obj = JSON.parse(good.request) as { typedData: { domain: Record<string, unknown> } }
    obj.typedData.domain.verifyingContract = `0x${'12'.repeat(20)}`
    const tampered = await host.agentSign({ request: JSON.stringify(obj), signature: good.signature })
    expect(refusalCode(tampered)).toBe('agent_signature_invalid')
    expect((await host.agentSign(good)).ok).toBe(true)
    // An authorization from another address than the wallet.
    const op = eip3009({ wallet, value: 100n })
    ;(op.typedData.message as Record<string, string>).from = MERCHANT
    const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: op }))
    expect(refusalCode(r)).toBe('sign_from_not_wallet')
    expect(TOKEN_ENTRY.asset).toBe(TOKEN)
  })

  it('a bare 32-byte digest as a message: refused by the payment policy; where raw messages are allowed it is signed only EIP-191-prefixed', async () => {
    const digest = keccak256(randomBytes(64))
    const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: { op: 'signMessage', message: { raw: digest } } }))
    expect(refusalCode(r)).toBe('policy_kind_not_allowed')
    expect(hasSignature(r)).toBe(false)

    // A second agent whose owner allows raw messages up to 32 bytes.
    const { agent: signer } = await host.setupAgent(owner, wallet, {
      version: 1,
      timeZone: 'UTC',
      tokens: [],
      budgets: [],
      rules: [{ id: 'msgs', effect: 'allow', kinds: ['raw_message'], maxMessageLength: 32 }],
    })
    const ok = await host.agentSign(signAgentRequest({ agent: signer, wallet, operation: { op: 'signMessage', message: { raw: digest } } }))
    expect(ok.ok).toBe(true)
    const sig = (ok as { result: { signature: Hex } }).result.signature
    // The signature is over "\x19Ethereum Signed Message:\n32" ‖ digest, never over the digest itself.
    expect(await verifyMessage({ address: wallet, message: { raw: digest }, signature: sig })).toBe(true)
    expect((await recoverAddress({ hash: digest, signature: sig })).toLowerCase()).not.toBe(wallet.toLowerCase())
  })
})
