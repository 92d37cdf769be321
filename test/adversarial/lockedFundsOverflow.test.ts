import { describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, TOKEN, TOKEN_ENTRY, waitAgentFloor } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { BATCH_ESCROW, channelOf, signDeposit, voucherOp } from '../helpers/batchChannel.js'

const MAX = 2n ** 256n - 1n

/**
 * Attack (prompt-injected agent): the owner's `lockedFunds` entry names the token but sets no `perChannel` nor
 * `total` ("no limit"). The agent asks for escrow deposits of 2^256 − 1 over and over into one channel: each is a
 * valid uint256 and no spend, but the channel's `deposited` sum grows past what the sealed ledger's schema holds
 * (78 digits), so the next sealed snapshot cannot be decoded and the wallet is bricked at the next restart. The
 * enclave must keep the sum within uint256 (refuse the deposit that would exceed it) and come back after a restart.
 */
describe('adversarial: locked-funds sum overflows the sealed ledger', () => {
  const s = stackWithAgentPerFile({
    version: 1,
    timeZone: 'UTC',
    tokens: [TOKEN_ENTRY],
    escrows: [BATCH_ESCROW],
    lockedFunds: [{ chainId: CHAIN_ID, asset: TOKEN }],
    budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '5000', rolling24h: '100000' }],
    rules: [{ id: 'x402-batch', effect: 'allow', kinds: ['batch_deposit', 'batch_voucher'], payTo: { in: [MERCHANT] } }],
  }, { env: { BURSAR_SNAPSHOT_EVERY: '4' } })

  const sign = (salt: bigint, value: bigint) => signDeposit(s, salt, value)

  it('deposits whose sum would pass uint256 are refused; the wallet survives a restart and still signs', async () => {
    await sign(1n, MAX)
    const refused: unknown[] = []
    for (let i = 2n; i <= 12n; i++) {
      try {
        await sign(i, MAX)
      } catch (e) {
        refused.push(e)
      }
    }
    expect(refused.length).toBe(11)
    expect(refused[0]).toMatchObject({ code: 'policy_locked_funds_exceeded' })
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady()
    await waitAgentFloor()
    // The wallet still decides: a voucher within the caps is signed.
    const ch = channelOf(s.wallet)
    const sig = await requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: voucherOp(ch.id, 100n), context: { batchChannel: { config: ch.config } } })
    expect(JSON.stringify(sig)).toMatch(/0x[0-9a-f]{130}/)
  }, 90_000)
})
