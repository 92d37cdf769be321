import { randomBytes } from 'node:crypto'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host replays, reorders or edits owner-signed acts, or makes
 * up its own. Owner acts carry seq = ownerSeq + 1 and are signed over fixed
 * EIP-712 types, so none of this may change the enclave's state.
 */
describe('adversarial: replayed, reordered and altered owner acts', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  const policy = (version: number) => paymentPolicy({ perTx: '5000', rolling24h: '100000', version })

  beforeAll(async () => {
    const s = await startWithAgent(policy(1))
    host = s.host
    owner = s.owner
    wallet = s.wallet
    agent = s.agent
  })
  afterAll(async () => {
    await host?.stop()
  })

  const signed = (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, account = owner) =>
    signOwnerAct({ account, primaryType, message })
  const send = (body: Awaited<ReturnType<typeof signOwnerAct>>, policyText?: string) =>
    host.call({ type: 'ownerAct', ...body, ...(policyText !== undefined ? { policy: policyText } : {}) })
  const setPolicyAct = async (version: number, seq: number, text?: string) => {
    const p = parsePolicy({ ...policy(version), wallet, agentId: agent.agentId })
    const body = await signed('SetPolicy', { wallet, agentId: agent.agentId, version: String(version), policyHash: policyHash(p), seq: String(seq) })
    return { body, text: text ?? JSON.stringify(p), policy: p }
  }

  it('an accepted act sent again (same seq) → owner_act_stale, also after an enclave restart', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const { body, text } = await setPolicyAct(2, seq)
    expect((await send(body, text)).ok).toBe(true)
    expect(refusalCode(await send(body, text))).toBe('owner_act_stale')
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    expect(refusalCode(await send(body, text))).toBe('owner_act_stale')
    expect(await host.ownerSeq(wallet)).toBe(seq)
  })

  it('CreateWallet sent again → owner_act_replayed (one wallet, not two)', async () => {
    const body = await signed('CreateWallet', {
      owner: owner.address,
      label: 'twice',
      nonce: `0x${randomBytes(32).toString('hex')}`,
      issuedAt: String(Date.now()),
      auditChain: await host.auditChain(),
    })
    const before = (await host.wallets()).length
    expect((await send(body)).ok).toBe(true)
    expect(refusalCode(await send(body))).toBe('owner_act_replayed')
    expect((await host.wallets()).length).toBe(before + 1)
  })

  it('a SetPolicy with an older version → policy_version_not_newer; the refused act does not consume its seq', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const old = await setPolicyAct(1, seq)
    expect(refusalCode(await send(old.body, old.text))).toBe('policy_version_not_newer')
    // SECURITY/consistency: nothing was sealed for the refused act, so the live seq must not move either,
    // else the owner's next act (seq from getWallets) is flagged as a rollback after any restart.
    expect(await host.ownerSeq(wallet)).toBe(seq - 1)
    const next = await setPolicyAct(3, seq)
    expect((await send(next.body, next.text)).ok).toBe(true)
  })

  it('after a refused act and a restart, the owner\'s next act (seq read from the enclave) is not taken for a rollback', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const stale = await setPolicyAct(1, seq)
    expect(refusalCode(await send(stale.body, stale.text))).toBe('policy_version_not_newer')
    const nextSeq = (await host.ownerSeq(wallet)) + 1 // what OwnerClient would sign
    await host.restartEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    const body = await signed('FreezeAgent', { wallet, agentId: agent.agentId, frozen: false, seq: String(nextSeq) })
    const res = await send(body)
    expect(res.ok ? 'ok' : res.error.code).toBe('ok')
  })

  it('a SetPolicy whose policy text is not the one the owner hashed → policy_hash_mismatch', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const { body, policy: p } = await setPolicyAct(4, seq)
    const raised = { ...p, budgets: [{ ...p.budgets[0]!, perTx: '999999999', rolling24h: '999999999' }] }
    const res = await send(body, JSON.stringify(raised))
    expect(refusalCode(res)).toBe('policy_hash_mismatch')
    const info = (await host.wallets()).find((w) => w.address === wallet)!
    expect(info.agents.find((a) => a.agentId === agent.agentId)!.policy!.version).toBe(3)
  })

  it('an act signed by a key that is not the owner → owner_not_authorized', async () => {
    const seq = (await host.ownerSeq(wallet)) + 1
    const mallory = privateKeyToAccount(generatePrivateKey())
    const body = await signed('RevokeAgent', { wallet, agentId: agent.agentId, seq: String(seq) }, mallory)
    expect(refusalCode(await send(body))).toBe('owner_not_authorized')
    const info = (await host.wallets()).find((w) => w.address === wallet)!
    expect(info.agents.find((a) => a.agentId === agent.agentId)!.status).toBe('active')
    expect(info.ownerSeq).toBe(seq - 1)
  })

  it('two acts sent in reverse order → the later one reads as a rollback: the wallet stops signing until Resync (fail-closed)', async () => {
    await host.waitAgentFloor()
    const seq = (await host.ownerSeq(wallet)) + 1
    const a = await signed('FreezeAgent', { wallet, agentId: agent.agentId, frozen: false, seq: String(seq) })
    const b = await signed('FreezeAgent', { wallet, agentId: agent.agentId, frozen: false, seq: String(seq + 1) })
    const rb = await send(b)
    expect(refusalCode(rb)).toBe('state_rollback_detected')
    expect(refusalCode(await send(a))).toBe('wallet_rolled_back')
    const pay = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) }))
    expect(refusalCode(pay)).toBe('wallet_rolled_back')
    expect(hasSignature(pay)).toBe(false)
    // The owner resyncs past both; the reordered acts are stale from then on.
    const resync = await signed('Resync', { wallet, seq: String(seq + 2) })
    expect((await send(resync)).ok).toBe(true)
    expect(refusalCode(await send(b))).toBe('owner_act_stale')
    expect(refusalCode(await send(a))).toBe('owner_act_stale')
    const after = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })
    expect((await host.agentSign(after)).ok).toBe(true)
  })

  it('an act for another wallet of the same owner cannot be redirected: the wallet is inside the signed message', async () => {
    const w2 = await host.createWallet(owner, 'second')
    const body = await signed('RevokeAgent', { wallet, agentId: agent.agentId, seq: '1' })
    const redirected = { ...body, message: body.message.replace(wallet, w2) }
    // Recovers to some other address → not the owner of w2.
    expect(refusalCode(await send(redirected))).toBe('owner_not_authorized')
  })
})
