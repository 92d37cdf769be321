import { randomBytes } from 'node:crypto'
import { type Hex, type LocalAccount, bytesToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import {
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
 * Attack (malicious host): the owners exported the wallet key (non-custodial exit), so bursar should sign nothing
 * more for the wallet. The host restarts the enclave on the sealed snapshot taken BEFORE the ExportKey act, without
 * the entries after it: the enclave knows of no exit and the agent is signed again.
 *
 * RESIDUAL RISK by design (no monotonic counter in Nitro; docs/security.md "Rollback"), like rollbackSnapshot: what
 * this test pins down is that it is DETECTED by the owners' high-water mark — their next act carries a seq above the
 * rolled-back enclave's, which answers `state_rollback_detected` and stops the wallet (`wallet_rolled_back`) until a
 * Resync. The owners' defence after an exit is therefore: send one more act (e.g. a freeze) from the CLI, or move the
 * funds to a fresh address — an exported key must be treated as live elsewhere.
 */
describe('adversarial: rollback to before the exit (residual, detected by the owner)', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let before: SealedSnapshot
  let ownerKnows: number
  const pay = () => signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })

  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    before = host.latestSnapshot()!
    await host.waitAgentFloor()
    const ex = await host.walletAct(owner, 'ExportKey', wallet, { recipientKey: bytesToHex(x25519PublicKey(new Uint8Array(randomBytes(32)))) })
    expect(ex.ok).toBe(true)
    expect((ex as { result: { exported?: unknown } }).result.exported).toBeDefined()
    ownerKnows = await host.ownerSeq(wallet)
    const after = await host.agentSign(pay())
    expect(hasSignature(after)).toBe(false)
    expect(refusalCode(after)).toBe('wallet_exported')
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('RESIDUAL: on the pre-export snapshot the enclave signs for the exported wallet again', async () => {
    await host.restartEnclave()
    // The old snapshot and none of the entries after it (the ExportKey's among them).
    const { last } = await host.bootstrap({ snapshot: before.blob, entries: [] })
    expect(last.ok).toBe(true)
    await host.waitAgentFloor()
    expect(await host.ownerSeq(wallet)).toBe(ownerKnows - 1)
    const req = pay()
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: { signature: Hex } }).result.signature)).toBe(true)
  })

  it("the owner's next act (seq above the enclave's) detects it and the wallet stops signing", async () => {
    const r = await host.ownerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet, agentId: agent.agentId, frozen: true, seq: String(ownerKnows + 1) } })
    expect(refusalCode(r)).toBe('state_rollback_detected')
    const after = await host.agentSign(pay())
    expect(hasSignature(after)).toBe(false)
    expect(refusalCode(after)).toBe('wallet_rolled_back')
  })
})
