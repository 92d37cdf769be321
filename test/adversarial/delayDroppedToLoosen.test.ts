import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { TWO_OF_THREE, type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import { eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'

const HOUR = 3600

/**
 * Attack: two owners (or two stolen owner keys) switch the time lock off — a SetOwners with delay 0, which needs only
 * the owners quorum — and then loosen the agent's policy, unfreeze it or export the key at once, before the third owner
 * can cancel. Through the real host and enclave: the shortened delay keeps the old one in force for the old delay's
 * length, so the loosening, the unfreeze and the exit all wait the full hour; the agent stays held to its old cap.
 */
describe('adversarial: dropping the delay to loosen at once', () => {
  let q: QuorumWallet
  const both = async (primaryType: 'SetOwners' | 'SetPolicy' | 'FreezeAgent' | 'ExportKey', fields: Record<string, unknown>, policy?: string) => {
    const one = await q.clients[0]!.act(primaryType, q.wallet, fields, policy)
    return q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)
  }
  const pay = async (value: bigint) => {
    const operation = eip3009({ wallet: q.wallet, value })
    return requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation }).then(
      async (r) => verifyEip3009(q.wallet, operation, r.signature as Hex),
      (e: { code?: string }) => e.code,
    )
  }

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'nodelay', delaySeconds: HOUR, quorum: { ...TWO_OF_THREE, ownersQuorum: '2' } })
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('a SetOwners with delay 0 applies, but every widening after it still waits the old hour', async () => {
    const t0 = Date.now()
    const off = await both('SetOwners', { owners: q.owners.map((o) => o.address), ...TWO_OF_THREE, delaySeconds: '0' })
    expect(off.proposal).toBeUndefined()
    expect((await q.clients[2]!.wallet(q.wallet)).governance.delaySeconds).toBe(0)
    const p = parsePolicy({ ...paymentPolicy({ perTx: '5000', rolling24h: '100000', version: 2 }), wallet: q.wallet, agentId: q.agentKey.agentId })
    const loosen = await both('SetPolicy', { agentId: q.agentKey.agentId, version: '2', policyHash: policyHash(p) }, JSON.stringify(p))
    expect(loosen.scheduled!.effectiveAt).toBeGreaterThan(t0 + (HOUR - 60) * 1000)
    expect(await pay(3000n)).toBe('policy_per_tx_cap_exceeded')
    expect((await q.clients[2]!.act('FreezeAgent', q.wallet, { agentId: q.agentKey.agentId, frozen: true })).proposal).toBeUndefined()
    const thaw = await both('FreezeAgent', { agentId: q.agentKey.agentId, frozen: false })
    expect(thaw.scheduled!.effectiveAt).toBeGreaterThan(t0 + (HOUR - 60) * 1000)
    expect(await pay(500n)).toBe('agent_frozen')
    const exit = await both('ExportKey', { recipientKey: `0x${'11'.repeat(32)}` })
    expect(exit.exported).toBeUndefined()
    expect(exit.scheduled!.effectiveAt).toBeGreaterThan(t0 + (HOUR - 60) * 1000)
  }, 60_000)
})
