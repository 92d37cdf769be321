import { computeChannelId } from '@x402/evm/batch-settlement/client'
import { type Hex, encodeAbiParameters, keccak256 } from 'viem'
import { type AgentOperation, type AgentRequestContext, requestSignature } from '../../agent/requestSignature.js'
import { CHAIN_ID, MERCHANT, TOKEN, TOKEN_ENTRY, TRANSFER_TYPES } from './agentClient.js'
import type { PolicyBody, StackWithAgent } from './agentClient.js'

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

/**
 * An escrow deposit as the reference client signs it: an EIP-3009 ReceiveWithAuthorization of `value` from `wallet`
 * to the collector (or `to`), its nonce bound to channel `channelId` and `salt`, valid for five minutes.
 */
export function depositOp(p: { wallet: Hex; channelId: Hex; salt: bigint; value: bigint; to?: string }): Extract<AgentOperation, { op: 'signTypedData' }> {
  return {
    op: 'signTypedData',
    typedData: {
      domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN },
      types: { ReceiveWithAuthorization: [...TRANSFER_TYPES] },
      primaryType: 'ReceiveWithAuthorization',
      message: {
        from: p.wallet, to: p.to ?? BATCH_COLLECTOR, value: p.value.toString(), validAfter: '0', validBefore: String(Math.floor(Date.now() / 1000) + 300),
        nonce: keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [p.channelId, p.salt])),
      },
    },
  }
}

/** The agent asks the enclave to sign a deposit of `value` into channel `ch` (the default channel unless given). */
export function signDeposit(s: StackWithAgent, salt: bigint, value: bigint, ch = channelOf(s.wallet)) {
  const operation = depositOp({ wallet: s.wallet, channelId: ch.id, salt, value })
  return requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation, context: { batchChannel: { config: ch.config, depositSalt: salt.toString() } } })
}
