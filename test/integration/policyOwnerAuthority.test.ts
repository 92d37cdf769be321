import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { type StackWithAgent, auditEntries, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/** Only the owner's fresh, correctly signed acts change anything; the host cannot forge, replay or re-date them. */
describe('policy: owner authority through the host (real host + enclave)', () => {
  let s: StackWithAgent
  const post = async (body: unknown) => {
    const res = await fetch(`${s.stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: (await res.json()) as { code?: string; message?: string } }
  }
  const seqNow = async () => (await s.client.wallet(s.wallet)).ownerSeq

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('refuses forged, stale, replayed and unauthorized acts; state is untouched; the owner still acts', async () => {
    const before = await s.client.wallet(s.wallet)
    const auditBefore = (await auditEntries(s.stack.url, s.owner)).length
    const next = String(before.ownerSeq + 1)
    const revoke = { wallet: s.wallet, agentId: s.agentKey.agentId, seq: next }

    // Forged: an unrecoverable signature; a signed message altered afterwards (recovers to someone else).
    const signed = await signOwnerAct({ account: s.owner, primaryType: 'RevokeAgent', message: revoke })
    expect((await post({ ...signed, signature: `0x${'00'.repeat(65)}` })).json.code).toBe('owner_signature_invalid')
    const altered = { ...signed, message: JSON.stringify({ ...revoke, agentId: `agt_${'0'.repeat(40)}` }) }
    expect((await post(altered)).json.code).toBe('owner_not_authorized')
    // The same signature presented as another act type does not recover to the owner either.
    expect((await post({ ...signed, primaryType: 'FreezeAgent', message: JSON.stringify({ ...revoke, frozen: true }) })).json.code).toBe('owner_not_authorized')
    // CreateWallet whose signature is not the named owner's.
    const cw = { owner: s.owner.address, label: 'x', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await s.client.auditChain() }
    const stranger = privateKeyToAccount(generatePrivateKey())
    expect((await post(await signOwnerAct({ account: stranger, primaryType: 'CreateWallet', message: cw }))).json.code).toBe('owner_signature_invalid')

    // Not authorized: a validly signed act from a key that does not own the wallet.
    const foreign = await signOwnerAct({ account: stranger, primaryType: 'RevokeAgent', message: revoke })
    const r = await post(foreign)
    expect(r.status).toBe(403)
    expect(r.json.code).toBe('owner_not_authorized')

    // Stale: seq not above the wallet's; a CreateWallet dated outside its 10-minute window.
    const old = await signOwnerAct({ account: s.owner, primaryType: 'RevokeAgent', message: { ...revoke, seq: String(before.ownerSeq) } })
    expect((await post(old)).json.code).toBe('owner_act_stale')
    const dated = { ...cw, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now() - 11 * 60_000) }
    expect((await post(await signOwnerAct({ account: s.owner, primaryType: 'CreateWallet', message: dated }))).json.code).toBe('owner_act_stale')

    expect(await seqNow()).toBe(before.ownerSeq)
    const after = await s.client.wallet(s.wallet)
    expect(after.agents).toEqual(before.agents)
    expect((await auditEntries(s.stack.url, s.owner)).length).toBe(auditBefore)

    // Replayed: an applied act sent again (same body) → stale; a CreateWallet nonce used twice → replayed.
    const freeze = await signOwnerAct({ account: s.owner, primaryType: 'FreezeAgent', message: { ...revoke, frozen: true } })
    expect((await post(freeze)).status).toBe(200)
    const unfreeze = await signOwnerAct({
      account: s.owner,
      primaryType: 'FreezeAgent',
      message: { ...revoke, frozen: false, seq: String(Number(next) + 1) },
    })
    expect((await post(unfreeze)).status).toBe(200)
    const replayed = await post(freeze)
    expect(replayed.status).toBe(409)
    expect(replayed.json.code).toBe('owner_act_stale')
    expect((await s.client.wallet(s.wallet)).agents[0]!.frozen).toBe(false)
    const create = await signOwnerAct({ account: s.owner, primaryType: 'CreateWallet', message: cw })
    expect((await post(create)).status).toBe(200)
    expect((await post(create)).json.code).toBe('owner_act_replayed')
    // A permit id used twice (fresh seq) is a replay too.
    const permit = { agentId: s.agentKey.agentId, permitId: 'pmt_once', chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '10', payTo: `0x${'0'.repeat(40)}`, host: 'api.example.com', expiresAt: String(Date.now() + 60_000), exceedCaps: false }
    await s.client.act('IssuePermit', s.wallet, permit)
    await expect(s.client.act('IssuePermit', s.wallet, permit)).rejects.toMatchObject({ code: 'owner_act_replayed' })

    // A policy whose text does not hash to the signed hash, and a version that is not newer.
    const policy = parsePolicy({ ...s.policy, version: 2 })
    const text = JSON.stringify({ ...policy, description: 'swapped by the host' })
    await expect(
      s.client.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: '2', policyHash: policyHash(policy) }, text),
    ).rejects.toMatchObject({ code: 'policy_hash_mismatch' })
    const same = parsePolicy({ ...s.policy, description: 'same version' })
    await expect(
      s.client.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: String(same.version), policyHash: policyHash(same) }, JSON.stringify(same)),
    ).rejects.toMatchObject({ code: 'policy_version_not_newer' })
    expect((await s.client.wallet(s.wallet)).agents[0]!.policy!.hash).toBe(policyHash(s.policy))

    // After all the refusals the owner's own client still acts (its seq did not drift), and the agent still signs.
    await s.client.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: '2', policyHash: policyHash(policy) }, JSON.stringify(policy))
    expect((await s.client.wallet(s.wallet)).agents[0]!.policy!.version).toBe(2)
    await waitAgentFloor()
    const operation = eip3009({ wallet: s.wallet, value: 5n })
    const sig = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
    expect(await verifyEip3009(s.wallet, operation, sig.signature as Hex)).toBe(true)
    // A second client of the same owner (fresh high-water mark) also picks the right seq.
    await new OwnerClient(s.stack.url, s.owner).act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: true })
    expect((await s.client.wallet(s.wallet)).agents[0]!.frozen).toBe(true)
  })
})
