import { randomBytes } from 'node:crypto'
import { bytesToHex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { CHAIN_ID, TOKEN } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

const STRICT = { stopQuorum: '1', approveQuorum: '2', loosenQuorum: '3', agentsQuorum: '2', ownersQuorum: '2' }

/**
 * Attack: the owners want all three to loosen a policy, to approve above 700, and so to export the key (the strictest
 * act), but changing the owner set needs two. Two owners (stolen keys, a rogue pair) first lower the threshold they
 * cannot meet — a SetOwners with loosen 2 of 3, or a SetApprovalQuorum that drops the 3-of-3 rule — with the `owners`
 * threshold, or add a key of their own so that two plus it make three — then loosen or export with two. Through the real host and enclave: a governance act that lowers a
 * threshold needs that threshold, so two signatures only make a proposal (threshold 3) and nothing changes; two still
 * cannot export; raising the rule's amount is a lowering too; all three together can lower it.
 */
describe('adversarial: the owners quorum lowers a stricter threshold, then acts below it', () => {
  let q: QuorumWallet
  const two = async (primaryType: 'SetOwners' | 'SetApprovalQuorum' | 'ExportKey', fields: Record<string, unknown>) => {
    const one = await q.clients[0]!.act(primaryType, q.wallet, fields)
    expect(one.proposal, `${primaryType} applied with one signature`).toBeDefined()
    return { first: one, second: await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash) }
  }

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'lower', quorum: STRICT })
    const { second } = await two('SetApprovalQuorum', { chainId: String(CHAIN_ID), asset: TOKEN, above: '700', quorum: '3' })
    expect(second.proposal).toBeUndefined()
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('two owners cannot lower loosen 3 → 2, drop or raise the 3-of-3 rule, add a key of their own, nor export', async () => {
    const lower = await two('SetOwners', { owners: q.owners.map((a) => a.address), ...STRICT, loosenQuorum: '2', delaySeconds: '0' })
    expect(lower.second.proposal).toMatchObject({ act: 'SetOwners', threshold: 3 })
    const drop = await two('SetApprovalQuorum', { chainId: String(CHAIN_ID), asset: TOKEN, above: '700', quorum: '1' })
    expect(drop.second.proposal).toMatchObject({ act: 'SetApprovalQuorum', threshold: 3 })
    const raise = await two('SetApprovalQuorum', { chainId: String(CHAIN_ID), asset: TOKEN, above: '1000000', quorum: '3' })
    expect(raise.second.proposal).toMatchObject({ threshold: 3 })
    const shrink = await two('SetOwners', { owners: q.owners.slice(0, 2).map((a) => a.address), ...STRICT, loosenQuorum: '2', delaySeconds: '0' })
    expect(shrink.second.proposal).toMatchObject({ threshold: 3 })
    // Adding a key of their own keeps "3" but lets the pair reach it with the new key: it needs three too.
    const puppet = privateKeyToAccount(generatePrivateKey()).address
    const add = await two('SetOwners', { owners: [...q.owners.map((a) => a.address), puppet], ...STRICT, delaySeconds: '0' })
    expect(add.second.proposal).toMatchObject({ threshold: 3 })
    const ex = await two('ExportKey', { recipientKey: bytesToHex(x25519PublicKey(new Uint8Array(randomBytes(32)))) })
    expect(ex.second.exported).toBeUndefined()
    expect(ex.second.proposal).toMatchObject({ threshold: 3 })
    const info = await q.clients[2]!.wallet(q.wallet)
    expect(info.governance.thresholds.loosen).toBe(3)
    expect(info.governance.approveAbove).toEqual([expect.objectContaining({ above: '700', quorum: 3 })])
  }, 60_000)

  it('all three together lower it', async () => {
    const { first } = await two('SetOwners', { owners: q.owners.map((a) => a.address), ...STRICT, loosenQuorum: '2', delaySeconds: '0' })
    const third = await q.clients[2]!.cosign(q.wallet, first.proposal!.actHash)
    expect(third.proposal).toBeUndefined()
    expect((await q.clients[0]!.wallet(q.wallet)).governance.thresholds.loosen).toBe(2)
  }, 60_000)
})
