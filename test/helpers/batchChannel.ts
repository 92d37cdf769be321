import { computeChannelId } from '@x402/evm/batch-settlement/client'
import type { Hex } from 'viem'
import type { AgentOperation, AgentRequestContext } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, TOKEN, TOKEN_ENTRY } from './agentClient.js'
import type { PolicyBody } from './agentClient.js'

/** x402 batch-settlement fixtures for tests that sign vouchers and deposits directly (no server). */
export const BATCH_ESCROW = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003' as const
export const BATCH_COLLECTOR = '0x4020806089470a89826cB9fB1f4059150b550004' as const
export const RECEIVER_AUTHORIZER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906' as const

export type ChannelConfig = NonNullable<AgentRequestContext['batchChannel']>['config']

/** The channel the reference client opens for `wallet` with MERCHANT (salt 0 unless given). */
export function channelOf(wallet: Hex, over: Partial<ChannelConfig> = {}): { config: ChannelConfig; id: Hex } {
  const config: ChannelConfig = {
    payer: wallet,
    payerAuthorizer: wallet,
    receiver: MERCHANT,
    receiverAuthorizer: RECEIVER_AUTHORIZER,
    token: TOKEN,
    withdrawDelay: 900,
    salt: `0x${'00'.repeat(32)}`,
    ...over,
  }
  return { config, id: computeChannelId(config as Parameters<typeof computeChannelId>[0], `eip155:${CHAIN_ID}`) }
}

export const VOUCHER_TYPES = { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] }

/** A voucher for channel `id` with running total `total`, as the reference client signs it. */
export function voucherOp(id: Hex, total: bigint): Extract<AgentOperation, { op: 'signTypedData' }> {
  return {
    op: 'signTypedData',
    typedData: {
      domain: { name: 'x402 Batch Settlement', version: '1', chainId: CHAIN_ID, verifyingContract: BATCH_ESCROW },
      types: VOUCHER_TYPES,
      primaryType: 'Voucher',
      message: { channelId: id, maxClaimableAmount: total.toString() },
    },
  }
}

/** Vouchers to MERCHANT in TOKEN through the canonical escrow; deposits within `lockedPerChannel` / `lockedTotal`. */
export function batchPolicy(p: { perTx: string; rolling24h: string; lockedPerChannel?: string; lockedTotal?: string }): PolicyBody {
  return {
    version: 1,
    timeZone: 'UTC',
    tokens: [TOKEN_ENTRY],
    escrows: [BATCH_ESCROW],
    lockedFunds: [{ chainId: CHAIN_ID, asset: TOKEN, perChannel: p.lockedPerChannel ?? '100000', total: p.lockedTotal ?? '100000' }],
    budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: p.perTx, rolling24h: p.rolling24h }],
    rules: [{ id: 'x402-batch', effect: 'allow', kinds: ['batch_deposit', 'batch_voucher'], payTo: { in: [MERCHANT] } }],
  }
}
