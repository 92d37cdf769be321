import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostRequestError } from '../../cli/lib/OwnerClient.js'
import { createMockNsm } from '../../sim/mockNsm.js'
import { type KmsServer, startKmsServer } from '../fixtures/kmsServer.js'
import { MERCHANT, type StackWithAgent, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { repoRoot } from '../helpers/startStack.js'
import { waitAcked } from '../helpers/waitAcked.js'

const CAP = 10_000n
const AMOUNT = 2_000n

/**
 * Attack (issue 15, per-wallet sealed blobs; found by red-team rt15): in Nitro the enclave's KMS calls travel through
 * the host's proxy, so the host can fail exactly one. Wallet A's agent spends its whole 24 h cap (A changed, not yet
 * sealed). The host then fails one KMS call of the next seal (an owner act on another wallet). Before the fix the
 * seal had already taken the set of changed wallets, so the failure forgot that A changed: the next seal's core
 * blob, whose audit head lies after A's spends, still named A's blob from before them. The host restarts the pair:
 * A's old blob loads, the tail after the core's head holds none of A's spends, and A's agent spends its cap a
 * second time. Defined outcome: a failed seal leaves its wallets marked changed, so the next core names blobs
 * that hold every spend before its head; after the restart A's agent is still at its cap.
 */
describe('adversarial: the host fails one KMS call of a seal so the next core names a wallet\'s pre-spend blob', () => {
  let kms: KmsServer
  let s: StackWithAgent
  const pay = () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT, to: MERCHANT })
    return postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })).then((r) => ({ ...r, op }))
  }

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-kms-'))
    await createMockNsm({ pkiDir: path.join(dataDir, 'sim-pki'), measuredFile: path.join(repoRoot, 'package.json') }).attest({})
    kms = await startKmsServer({ attestationRoot: readFileSync(path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')) })
    s = await stackWithAgent(paymentPolicy({ perTx: '5000', rolling24h: CAP.toString() }), {
      dataDir,
      env: { BURSAR_MODE: 'nitro', BURSAR_KMS_ENDPOINT: kms.endpoint, BURSAR_KMS_KEY_ID: kms.keyId, BURSAR_TEST_ACK_EVERY_MS: '100' },
    })
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
    await kms?.close()
  })

  it('A spends its cap; one failed KMS call; a later seal succeeds; after a restart A is still at its cap', async () => {
    await waitAgentFloor()
    for (let i = 0n; i < CAP / AMOUNT; i++) {
      const r = await pay()
      expect(r.status).toBe(200)
      expect(await verifyEip3009(s.wallet, r.op, r.json.signature as Hex)).toBe(true)
    }
    expect((await pay()).json.code).toBe('policy_daily_cap_exceeded')
    // The host fails one KMS call (not retryable) of the next seal: CreateWallet B's.
    const fault = { status: 400, type: 'AccessDeniedException', times: 1 }
    kms.set({ fault })
    const failed = await s.client.createWallet('b').then(() => null, (e: unknown) => e)
    expect(failed).toBeInstanceOf(HostRequestError)
    expect(fault.times).toBe(0)
    // The next seal succeeds (CreateWallet C): its core's audit head is after A's spends.
    await s.client.createWallet('c')
    await waitAcked(s.stack) // the host's ack: every entry stored
    await s.stack.stop()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady(30_000)
    await waitAgentFloor()
    const again = await pay()
    expect(again.json.signature).toBeUndefined()
    expect(again.json.code).toBe('policy_daily_cap_exceeded')
  }, 120_000)
})
