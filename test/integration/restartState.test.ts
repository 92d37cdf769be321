import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentFrozenError, AgentRevokedError, PolicyDeniedError } from '../../agent/errors.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import {
  CHAIN_ID,
  MERCHANT,
  type StackWithAgent,
  TOKEN,
  eip3009,
  paymentPolicy,
  stackWithAgent,
  verifyEip3009,
  waitAgentFloor,
} from '../helpers/agentClient.js'

const UNIT = 10n
const CAP = 100n
const HELD = 20n

/** Ledger totals, policies, agents, revocations, freezes and permit holds survive restarts of the enclave and of both processes. */
describe('restart: state survives restarts (real host + enclave)', () => {
  let s: StackWithAgent
  let revokedAgent: AgentKey
  let frozenAgent: AgentKey
  const pay = (agentKey: AgentKey, value = UNIT) => {
    const operation = eip3009({ wallet: s.wallet, value })
    return requestSignature({ host: s.stack.url, agentKey, wallet: s.wallet, operation }).then(async (r) => {
      expect(await verifyEip3009(s.wallet, operation, r.signature as Hex)).toBe(true)
      return r
    })
  }
  const payN = async (n: number) => {
    for (let i = 0; i < n; i++) await pay(s.agentKey)
  }
  const restartBoth = async () => {
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await waitAgentFloor()
  }

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: String(UNIT), rolling24h: String(CAP) }))
    const other = (label: string) => setupAgent({ host: s.stack.url, owner: s.owner, wallet: s.wallet, label, policy: paymentPolicy({ perTx: '10', rolling24h: '100' }) })
    revokedAgent = (await other('revoked')).agentKey
    frozenAgent = (await other('frozen')).agentKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('a partly spent cap stays partly spent; revocation, freeze, policy version and permit hold persist', async () => {
    await payN(3)
    // Enclave only: the host hands it the snapshot + the entries after it.
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    await waitAgentFloor()
    await payN(3) // 60 of 100 spent

    await s.client.act('RevokeAgent', s.wallet, { agentId: revokedAgent.agentId })
    await s.client.act('FreezeAgent', s.wallet, { agentId: frozenAgent.agentId, frozen: true })
    const v2 = parsePolicy({ ...paymentPolicy({ perTx: String(UNIT), rolling24h: String(CAP), version: 2 }), wallet: s.wallet, agentId: s.agentKey.agentId })
    await s.client.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: '2', policyHash: policyHash(v2) }, JSON.stringify(v2))
    // A live permit holds 20 against the agent's budget: 20 remain for ordinary payments.
    await s.client.act('IssuePermit', s.wallet, {
      agentId: s.agentKey.agentId,
      permitId: 'pmt_restart',
      chainId: String(CHAIN_ID),
      asset: TOKEN,
      amount: String(HELD),
      payTo: MERCHANT,
      host: '',
      expiresAt: String(Date.now() + 3_600_000),
      exceedCaps: false,
    })
    const before = await s.client.wallet(s.wallet)

    await restartBoth()

    const after = await s.client.wallet(s.wallet)
    expect(after).toEqual(before)
    const byId = new Map(after.agents.map((a) => [a.agentId, a]))
    expect(byId.get(s.agentKey.agentId)!.policy).toMatchObject({ version: 2, hash: policyHash(v2) })
    expect(byId.get(revokedAgent.agentId)!.status).toBe('revoked')
    expect(byId.get(frozenAgent.agentId)!.frozen).toBe(true)
    expect(after.permits.map((p) => p.permitId)).toEqual(['pmt_restart'])

    // 100 cap − 60 spent − 20 held = 20: two more units sign, the third is refused with nothing left.
    await payN(2)
    const denied = await pay(s.agentKey).catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(PolicyDeniedError)
    expect((denied as PolicyDeniedError).code).toBe('policy_daily_cap_exceeded')
    expect((denied as PolicyDeniedError).remaining).toBe('0')
    await expect(pay(revokedAgent)).rejects.toBeInstanceOf(AgentRevokedError)
    await expect(pay(frozenAgent)).rejects.toBeInstanceOf(AgentFrozenError)

    // And once more: the denial and the totals are unchanged by another restart of both.
    await restartBoth()
    const again = await pay(s.agentKey).catch((e: unknown) => e)
    expect((again as PolicyDeniedError).code).toBe('policy_daily_cap_exceeded')
    expect((again as PolicyDeniedError).remaining).toBe('0')
    await expect(pay(revokedAgent)).rejects.toBeInstanceOf(AgentRevokedError)
    await s.client.act('FreezeAgent', s.wallet, { agentId: frozenAgent.agentId, frozen: false })
    expect((await pay(frozenAgent)).signature).toMatch(/^0x/)
  })
})
