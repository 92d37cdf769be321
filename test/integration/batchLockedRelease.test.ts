import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StackWithAgent, runCli, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'
import { batchPolicy, channelOf, signDeposit } from '../helpers/batchChannel.js'

/**
 * x402 batch-settlement locked funds come back only on the owner's signed ReleaseLocked (after they saw the funds
 * leave the channel on chain: a withdrawal or refund the enclave cannot see), never on the host's or agent's word;
 * never more than is still locked; and it survives a restart.
 */
describe('batch-settlement: the owner releases locked funds (real host + enclave + CLI)', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(batchPolicy({ perTx: '5000', rolling24h: '100000', lockedPerChannel: '50000', lockedTotal: '50000' }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  const sign = (salt: bigint, value: bigint) => signDeposit(s, salt, value)

  it('a release reopens exactly its amount of the locked-funds budget; more than is locked is refused', async () => {
    const id = channelOf(s.wallet).id
    await sign(1n, 40_000n)
    await expect(sign(2n, 10_001n)).rejects.toMatchObject({ code: 'policy_locked_funds_exceeded', remaining: '10000' })
    await expect(s.client.act('ReleaseLocked', s.wallet, { channelId: id, amount: '40001' })).rejects.toMatchObject({ code: 'owner_act_invalid' })
    // Through the owner CLI, as an owner would (the key in the environment).
    const r = await runCli(['owner', 'budget', 'release-locked', '--wallet', s.wallet, '--channel', id, '--amount', '30000'], { BURSAR_HOST_URL: s.stack.url, BURSAR_OWNER_KEY: s.ownerKey })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('released 30000 locked in channel')
    await sign(3n, 10_001n)
    await expect(sign(4n, 30_000n)).rejects.toMatchObject({ code: 'policy_locked_funds_exceeded', remaining: '29999' })
    // The release is a ledger event in the audit log: it survives a restart.
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    await waitAgentFloor()
    await expect(sign(5n, 30_000n)).rejects.toMatchObject({ code: 'policy_locked_funds_exceeded', remaining: '29999' })
    await sign(6n, 29_999n)
  }, 60_000)
})
