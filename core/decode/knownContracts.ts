import { fields } from './checkStructTypes.js'

/** Canonical contracts bursar decodes by address (the same on every chain). */
export const PERMIT2_ADDRESS = '0x000000000022d473030f116ddee9f6b43ac78ba3'
/** x402 Permit2 proxies: their witness names the recipient (`to`), so the payee is known when signing. */
export const X402_EXACT_PERMIT2_PROXY = '0x402085c248eea27d92e8b30b2c58ed07f9e20001'
export const X402_UPTO_PERMIT2_PROXY = '0x4020a4f3b7b90cca423b9fabcc0ce57c6c240002'
/** Each x402 proxy's `Witness` struct (the one its WITNESS_TYPE_STRING hashes): a permit to a proxy carries exactly it. */
export const X402_PROXY_WITNESS: ReadonlyMap<string, readonly { name: string; type: string }[]> = new Map([
  [X402_EXACT_PERMIT2_PROXY, fields('address to,uint256 validAfter')],
  [X402_UPTO_PERMIT2_PROXY, fields('address to,address facilitator,uint256 validAfter')],
])

/** Typed-data primary types that move or allow funds: decoded strictly as a kind, or refused — never generic. */
export const MONEY_PRIMARY_TYPES: ReadonlySet<string> = new Set([
  'TransferWithAuthorization',
  'ReceiveWithAuthorization',
  'CancelAuthorization',
  'Permit',
  'PermitSingle',
  'PermitBatch',
  'PermitTransferFrom',
  'PermitWitnessTransferFrom',
  'PermitBatchTransferFrom',
  'PermitBatchWitnessTransferFrom',
])

/** x402 batch-settlement: the escrow (channels, vouchers) and its EIP-3009 deposit collector. */
export const X402_BATCH_SETTLEMENT = '0x4020074e9df2ce1dee5a9c1b5c3f541d02a10003'
export const X402_BATCH_ERC3009_COLLECTOR = '0x4020806089470a89826cb9fb1f4059150b550004'
export const X402_BATCH_PERMIT2_COLLECTOR = '0x4020425faf3b746c082c2f942b4e5159887b0005'
