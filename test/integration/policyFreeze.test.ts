import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentFrozenError, PolicyDeniedError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OTHER_PAYEE, type StackWithAgent, auditEntries, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

const BURST = 3

/** Owner freeze/unfreeze, and the denial-burst risk control freezing an agent until the owner unfreezes it. */
describe('policy: freeze, unfreeze and the denial-burst auto-freeze (real host + enclave)', () => {
  let s: StackWithAgent
  const pay = async (to?: Hex) => {
    const operation = eip3009({ wallet: s.wallet, value: 5n, ...(to ? { to } : {}) })
    const r = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation })
    expect(await verifyEip3009(s.wallet, operation, r.signature as Hex)).toBe(true)
    return r
  }
  const frozen = async () => (await s.client.wallet(s.wallet)).agents.find((a) => a.agentId === s.agentKey.agentId)!.frozen
  const freeze = (value: boolean) => s.client.act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: value })

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '100', rolling24h: '100000', extra: { risk: { denialBurst: { count: BURST, windowMinutes: 10 } } } }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('an owner freeze stops signing until the owner unfreezes', async () => {
    await pay()
    await freeze(true)
    expect(await frozen()).toBe(true)
    await expect(pay()).rejects.toBeInstanceOf(AgentFrozenError)
    await freeze(false)
    expect(await frozen()).toBe(false)
    await pay()
  })

  it(`${BURST} denials within the window freeze the agent; only the owner's unfreeze lets it sign again`, async () => {
    const mark = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).at(-1)!.seq
    // Frozen-state refusals from the previous test do not count: windows restart at the unfreeze.
    for (let i = 0; i < BURST - 1; i++) await expect(pay(OTHER_PAYEE)).rejects.toMatchObject({ code: 'policy_payto_not_allowed' })
    expect(await frozen()).toBe(false)
    await pay() // an allowed payment between denials does not reset the burst
    const last = await pay(OTHER_PAYEE).catch((e: unknown) => e)
    expect(last).toBeInstanceOf(PolicyDeniedError)
    expect(await frozen()).toBe(true)
    await expect(pay()).rejects.toBeInstanceOf(AgentFrozenError)

    const entries = (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.seq > mark)
    const freezing = entries.filter((e) => e.ledger.some((l) => (l as { type?: string }).type === 'agent_frozen'))
    expect(freezing.length).toBe(1)
    expect(freezing[0]!.event).toBe('sign_denied')
    expect(freezing[0]!.code).toBe('policy_payto_not_allowed')
    expect((freezing[0]!.ledger.find((l) => (l as { type?: string }).type === 'agent_frozen') as { reason: string }).reason).toMatch(/risk/)

    await freeze(false)
    const ok = await pay()
    expect(ok.signature).toMatch(/^0x/)
    // One new denial after the unfreeze does not refreeze (the window restarted).
    await expect(pay(OTHER_PAYEE)).rejects.toBeInstanceOf(PolicyDeniedError)
    expect(await frozen()).toBe(false)
  })
})
