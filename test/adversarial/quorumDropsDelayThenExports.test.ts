import { randomBytes } from 'node:crypto'
import { type Hex, bytesToHex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, TWO_OF_THREE, startQuorumWallet } from '../helpers/quorumWallet.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'

const DELAY_S = 3600

/**
 * Attack: the wallet's time lock gives every owner the delay to cancel a loosening or a key exit — the protection
 * against a quorum of stolen keys (or a rogue majority). Two of three owners first sign a SetOwners that only drops the
 * delay to 0 (an `owners`-class act, applied at once), then export the key and widen the agent's cap: without a fix
 * both apply immediately and the third owner never gets its window. Through the real host and enclave: after the delay
 * is shortened, the export and the loosening are still scheduled at least the OLD delay ahead (no sealed key now), the
 * agent keeps its old cap, and the third owner cancels the export alone.
 */
describe('adversarial: a quorum drops the delay, then exports the key and loosens at once', () => {
  let q: QuorumWallet
  let t0: number

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'dropdelay', delaySeconds: DELAY_S })
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('the shorter delay does not shorten what the old one still covers', async () => {
    t0 = Date.now()
    const drop = await q.clients[0]!.act('SetOwners', q.wallet, { owners: q.owners.map((a) => a.address), ...TWO_OF_THREE, delaySeconds: '0' })
    expect(drop.proposal).toMatchObject({ act: 'SetOwners', threshold: 2 })
    expect((await q.clients[1]!.cosign(q.wallet, drop.proposal!.actHash)).proposal).toBeUndefined()

    const recipientKey = bytesToHex(x25519PublicKey(new Uint8Array(randomBytes(32))))
    const ex = await q.clients[0]!.act('ExportKey', q.wallet, { recipientKey })
    const done = await q.clients[1]!.cosign(q.wallet, ex.proposal!.actHash)
    expect(done.exported).toBeUndefined()
    expect(done.scheduled?.effectiveAt).toBeGreaterThanOrEqual(t0 + DELAY_S * 1000 - 5_000)

    // The agent's cap is 1000; a widening to 5000 waits too.
    const p = parsePolicy({ ...paymentPolicy({ perTx: '5000', rolling24h: '100000', version: 2 }), wallet: q.wallet, agentId: q.agentKey.agentId })
    const one = await q.clients[0]!.act('SetPolicy', q.wallet, { agentId: q.agentKey.agentId, version: '2', policyHash: policyHash(p) }, JSON.stringify(p))
    const two = await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)
    expect(two.scheduled?.effectiveAt).toBeGreaterThanOrEqual(t0 + DELAY_S * 1000 - 5_000)
    const big = eip3009({ wallet: q.wallet, value: 3000n })
    const refused = await requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation: big }).catch((e) => e)
    expect((refused as { code?: string }).code).toBe('policy_per_tx_cap_exceeded')

    // The export is still scheduled, the agent signs within its cap, and the third owner cancels the export alone.
    const info = await q.clients[2]!.wallet(q.wallet)
    expect(info.exit?.due).toBe(false)
    const small = eip3009({ wallet: q.wallet, value: 500n })
    const ok = await requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation: small })
    expect(await verifyEip3009(q.wallet, small, ok.signature as Hex)).toBe(true)
    const cancel = await q.clients[2]!.act('CancelScheduled', q.wallet, { actHash: info.exit!.actHash })
    expect(cancel.cancelled).toBe(info.exit!.actHash)
  }, 60_000)
})
