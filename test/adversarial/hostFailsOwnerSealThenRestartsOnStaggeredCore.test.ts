import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostRequestError } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { createMockNsm } from '../../sim/mockNsm.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { type KmsServer, startKmsServer } from '../fixtures/kmsServer.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'
import { repoRoot } from '../helpers/startStack.js'
import { waitAcked } from '../helpers/waitAcked.js'

const EVERY = 32 // a staggered check every 2 entries

/**
 * Attack (issue 18, staggered seals; red-team rt18): in Nitro the enclave's KMS calls travel through the host's
 * proxy, so the host fails the one KMS call of an owner act's seal: FreezeAgent on wallet W0. The act's change and
 * its audit entry stand. Agent traffic on wallet W1 goes on; the next periodic seals are staggered and defer W0 (it
 * changed less than snapshotEvery entries ago), so the stored core's replay starts before the freeze's entry. The
 * host restarts the pair: before the fix replay refused that owner-act entry as a rollback (state_rollback_detected)
 * on every core the host held: the enclave could not load again. Defined outcome: a failed owner-act seal leaves a
 * full seal owed; after the restart the pair is ready and W0's agent is still frozen.
 */
describe('adversarial: the host fails an owner act\'s seal, then restarts the pair on a staggered core', () => {
  let kms: KmsServer
  let s: StackWithAgent
  let w0: { wallet: `0x${string}`; agentKey: AgentKey }
  const pay = (wallet: `0x${string}`, agentKey: AgentKey) =>
    postSign(s.stack.url, signedBody({ agentKey, wallet, operation: eip3009({ wallet, value: 10n }) }))
  const policy = paymentPolicy({ perTx: '1000', rolling24h: '1000000000' })

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-kms-'))
    await createMockNsm({ pkiDir: path.join(dataDir, 'sim-pki'), measuredFile: path.join(repoRoot, 'package.json') }).attest({})
    kms = await startKmsServer({ attestationRoot: readFileSync(path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')) })
    s = await stackWithAgent(policy, {
      dataDir,
      env: { BURSAR_MODE: 'nitro', BURSAR_KMS_ENDPOINT: kms.endpoint, BURSAR_KMS_KEY_ID: kms.keyId, BURSAR_TEST_ACK_EVERY_MS: '100', BURSAR_SNAPSHOT_EVERY: String(EVERY) },
    })
    const { wallet } = await s.client.createWallet('w0')
    w0 = { wallet, agentKey: (await setupAgent({ host: s.stack.url, owner: s.owner, wallet, policy })).agentKey }
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
    await kms?.close()
  })

  it('the freeze whose seal failed survives a restart on the next staggered core; the pair loads', async () => {
    await waitAgentFloor()
    // W1's traffic: W0 unchanged, its blob counts as current at each staggered check.
    for (let i = 0; i < 3 * EVERY; i++) expect((await pay(s.wallet, s.agentKey)).status).toBe(200)
    expect((await pay(w0.wallet, w0.agentKey)).status).toBe(200)
    for (let i = 0; i < EVERY + 4; i++) expect((await pay(s.wallet, s.agentKey)).status).toBe(200)
    // The host fails the one KMS call of the freeze's seal (W0's blob).
    const fault = { status: 400, type: 'AccessDeniedException', times: 1 }
    kms.set({ fault })
    const failed = await s.client.act('FreezeAgent', w0.wallet, { agentId: w0.agentKey.agentId, frozen: true }).then(() => null, (e: unknown) => e)
    expect(failed).toBeInstanceOf(HostRequestError)
    expect(fault.times).toBe(0)
    expect((await pay(w0.wallet, w0.agentKey)).json.code).toBe('agent_frozen') // the act's change stands
    // W1's traffic goes on: staggered seals, each stored and acknowledged.
    for (let i = 0; i < EVERY / 2; i++) expect((await pay(s.wallet, s.agentKey)).status).toBe(200)
    await waitAcked(s.stack) // the host's ack: every entry stored
    await s.stack.stop()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady(30_000)
    await waitAgentFloor()
    expect((await pay(w0.wallet, w0.agentKey)).json.code).toBe('agent_frozen')
    expect((await pay(s.wallet, s.agentKey)).status).toBe(200)
  }, 180_000)
})
