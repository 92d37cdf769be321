import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, type ResponseFrame } from '../../shared/protocol/messages.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

/**
 * Attack: load requests pipelined behind `finishLoad`. The phase is checked when a frame arrives, so a
 * `loadState`, `replayEntries` or second `finishLoad` sent in the same write as `finishLoad` passed the check in
 * `loading` and ran in the single writer after the enclave was `ready`: a loadState wiped the live state and then
 * halted (ready → loading is illegal), a bad blob left a `ready` enclave with no wallets, a second finishLoad
 * halted. No host input may halt the enclave (SECURITY.md): a load request that reaches the writer outside
 * `loading` is refused (`phase_illegal`), the live state is untouched, and traffic goes on.
 */
describe('adversarial: load requests pipelined behind finishLoad (real enclave)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let beforeRevoke: SealedSnapshot
  const pay = (value = 100n) => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })
  const phase = async () => ((await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })) as { result: { phase: string } }).result.phase

  /** Restarts the enclave on the newest snapshot and sends finishLoad and `then` in one go. */
  async function finishWith(then: Record<string, unknown>): Promise<[ResponseFrame, ResponseFrame]> {
    await host.restartEnclave()
    expect((await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    const snap = host.latestSnapshot()!
    expect((await host.call({ type: 'loadState', snapshot: snap.blob })).ok).toBe(true)
    const after = host.entriesAfter(snap.auditSeq)
    if (after.length > 0) expect((await host.call({ type: 'replayEntries', entries: after })).ok).toBe(true)
    return Promise.all([host.call({ type: 'finishLoad' }), host.call(then)])
  }

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    await host.waitAgentFloor()
    expect((await host.agentSign(pay())).ok).toBe(true)
    beforeRevoke = host.latestSnapshot()!
    expect((await host.walletAct(owner, 'RevokeAgent', wallet, { agentId: agent.agentId })).ok).toBe(true)
    expect(host.latestSnapshot()!.version).toBeGreaterThan(beforeRevoke.version)
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('finishLoad + loadState(the snapshot before the revocation) → phase_illegal; ready, the agent stays revoked', async () => {
    const [fin, load] = await finishWith({ type: 'loadState', snapshot: beforeRevoke.blob })
    expect(fin.ok).toBe(true)
    expect(refusalCode(load)).toBe('phase_illegal')
    expect(await phase()).toBe('ready')
    await host.waitAgentFloor()
    const r = await host.agentSign(pay())
    expect(refusalCode(r)).toBe('agent_revoked')
    expect(hasSignature(r)).toBe(false)
    expect((await host.wallets()).map((w) => w.address.toLowerCase())).toEqual([wallet.toLowerCase()])
  })

  it('finishLoad + loadState(a blob that does not unseal) → phase_illegal; the wallets are still there', async () => {
    const [fin, load] = await finishWith({ type: 'loadState', snapshot: new Uint8Array(64) })
    expect(fin.ok).toBe(true)
    expect(refusalCode(load)).toBe('phase_illegal')
    expect(await phase()).toBe('ready')
    expect((await host.wallets()).length).toBe(1)
  })

  it('finishLoad + finishLoad / + replayEntries → phase_illegal; ready; the owner re-admits the agent and it pays', async () => {
    const [fin, again] = await finishWith({ type: 'finishLoad' })
    expect(fin.ok).toBe(true)
    expect(refusalCode(again)).toBe('phase_illegal')
    expect(await phase()).toBe('ready')
    const [fin2, replay] = await finishWith({ type: 'replayEntries', entries: host.entries.slice(-1) })
    expect(fin2.ok).toBe(true)
    expect(refusalCode(replay)).toBe('phase_illegal')
    expect(await phase()).toBe('ready')
    await host.waitAgentFloor()
    const { agent: a2 } = await host.setupAgent(owner, wallet, paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    agent = a2
    const p = pay()
    const ok = await host.agentSign(p)
    expect(ok.ok).toBe(true)
    expect(await verifyPayment(wallet, p.parsed, (ok as { result: AgentSignOk }).result.signature)).toBe(true)
  })
})
