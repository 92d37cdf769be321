import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BursarRequestError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { type StackWithAgent, auditEntries, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/** RevokePolicy: the agent stays registered but signs nothing until the owner sets a newer policy. */
describe('owner revokes a policy (real host + enclave)', () => {
  let s: StackWithAgent
  const pay = async () => {
    const operation = eip3009({ wallet: s.wallet, value: 5n })
    const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
    expect(await verifyEip3009(s.wallet, operation, r.signature as Hex)).toBe(true)
  }
  const setPolicy = (version: number) => {
    const p = parsePolicy({ ...paymentPolicy({ perTx: '100', rolling24h: '100000', version }), wallet: s.wallet, agentId: s.agentKey.agentId })
    return s.client.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: String(version), policyHash: policyHash(p) }, JSON.stringify(p))
  }

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '100', rolling24h: '100000' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('refuses every request after the revocation; an older version cannot come back; a newer one restores signing', async () => {
    await pay()
    await s.client.act('RevokePolicy', s.wallet, { agentId: s.agentKey.agentId })
    const err = await pay().catch((e) => e)
    expect(err).toBeInstanceOf(BursarRequestError)
    expect((err as BursarRequestError).code).toBe('agent_no_policy')
    expect((await s.client.wallet(s.wallet)).agents.find((a) => a.agentId === s.agentKey.agentId)!.policy).toBeNull()
    await expect(s.client.act('RevokePolicy', s.wallet, { agentId: s.agentKey.agentId })).rejects.toMatchObject({ code: 'agent_no_policy' })
    await expect(setPolicy(1)).rejects.toMatchObject({ code: 'policy_version_not_newer' })
    await setPolicy(2)
    await pay()
    const events = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).map((e) => e.event)
    expect(events).toContain('policy_revoked')
  })
})
