import { type Hex, type TransactionSerializableEIP1559, getAddress, keccak256, serializeTransaction } from 'viem'
import type { TransactionJson } from '../../shared/schemas/agentRequest.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { checkRequirements } from './checkRequirements.js'
import type { DecodeTypedDataParameters } from './decodeTypedData.js'
import { ERC20_SELECTORS, UNSUPPORTED_TOKEN_SELECTORS, decodeErc20Call, decodePermit2Call } from './decodeErc20Call.js'
import { PERMIT2_ADDRESS } from './knownContracts.js'
import { parseEip712Integer } from './parseEip712Integer.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeTransactionParameters = Pick<DecodeTypedDataParameters, 'wallet' | 'registry' | 'requirements'> & { transaction: TransactionJson }

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/
const MAX_UINT256 = (1n << 256n) - 1n

/**
 * Decodes an unsigned EIP-1559 transaction into one kind: a native transfer
 * (empty calldata), an ERC-20 transfer / allowance (canonical calldata, on any
 * contract), a Permit2 approve, or a call to a contract that is neither a
 * registry token nor Permit2. Every kind keeps the fee fields (the fee counts
 * against the native budget). The digest is the keccak of the unsigned
 * serialization, computed here.
 */
export function decodeTransaction({ transaction: t, wallet, registry, requirements }: DecodeTransactionParameters): DecodeResult {
  const malformed = (why: string) => deny('sign_tx_malformed', why)
  const u256 = (v: string | undefined) => (v === undefined ? 0n : parseEip712Integer(v, { signed: false, bits: 256 }))
  const value = u256(t.value)
  if (value === undefined) return malformed('value must be uint256')
  // SECURITY: gas ≤ 2^64−1, fees ≤ 2^256−1 and the worst-case fee gas × maxFeePerGas ≤ 2^256−1, so the fee is a
  // spend every budget, ledger event and audit entry can hold (an approved request skips the caps).
  const gas = parseEip712Integer(t.gas, { signed: false, bits: 64 })
  const maxFeePerGas = u256(t.maxFeePerGas)
  const maxPriorityFeePerGas = u256(t.maxPriorityFeePerGas)
  if (gas === undefined || maxFeePerGas === undefined || maxPriorityFeePerGas === undefined || gas * maxFeePerGas > MAX_UINT256) {
    return deny('sign_tx_fee_out_of_range', 'gas must be ≤ 2^64−1, fees and gas × maxFeePerGas ≤ 2^256−1')
  }
  if (!Number.isSafeInteger(t.chainId) || t.chainId <= 0) return malformed('chainId must be a positive safe integer')
  if (!Number.isSafeInteger(t.nonce) || t.nonce < 0) return malformed('nonce must be a non-negative safe integer')
  const data = (t.data ?? '0x').toLowerCase() as Hex
  if (!HEX.test(data)) return malformed('data is not even-length hex')
  const to = getAddress(t.to)
  const fee = { chainId: t.chainId, nonce: t.nonce, gas: gas.toString(), maxFeePerGas: maxFeePerGas.toString(), maxPriorityFeePerGas: maxPriorityFeePerGas.toString() }
  const selector = data.slice(0, 10)
  const isRegistryToken = registry.some((e) => e.chainId === t.chainId && e.asset.toLowerCase() === to.toLowerCase())

  let action: DecodedAction
  if (data === '0x') {
    action = { kind: 'native_transfer', ...fee, amount: value.toString(), payTo: to }
  } else if (data.length < 10) {
    return deny('sign_calldata_unknown', 'calldata shorter than a 4-byte selector')
  } else if (to.toLowerCase() === PERMIT2_ADDRESS) {
    const call = decodePermit2Call(data)
    if (!call || call.method !== 'permit2Approve') return deny('sign_token_call_unsupported', 'only Permit2.approve is supported')
    if (value !== 0n) return deny('sign_erc20_native_value', 'Permit2 call with non-zero native value')
    action = { kind: 'permit2_approve', ...fee, asset: getAddress(call.token), amount: call.amount.toString(), spender: getAddress(call.spender), expiration: call.expiration }
  } else if (ERC20_SELECTORS.has(selector)) {
    const call = decodeErc20Call(data)
    if (!call) return deny('sign_calldata_malformed', 'ERC-20 calldata is not canonically encoded')
    // SECURITY: a token call that also sends native value would move money policy does not see.
    if (value !== 0n) return deny('sign_erc20_native_value', 'ERC-20 call with non-zero native value')
    if (call.method === 'transfer' || call.method === 'transferFrom') {
      action = {
        kind: 'erc20_transfer',
        ...fee,
        asset: to,
        amount: call.amount.toString(),
        payTo: getAddress(call.to),
        from: getAddress(call.method === 'transfer' ? wallet : call.from),
        method: call.method,
      }
    } else {
      // SECURITY (rt29a): the call's own amount, decreaseAllowance's too: the action (so the approval key and the
      // owner's summary) binds the exact calldata. A decrease grants nothing: its kind counts 0 (its fee still counts).
      action = { kind: 'erc20_approve', ...fee, asset: to, amount: call.amount.toString(), spender: getAddress(call.spender), method: call.method }
    }
  } else if (UNSUPPORTED_TOKEN_SELECTORS.has(selector) || isRegistryToken) {
    // SECURITY: a call to a registry token is a decoded token action or refused, never an anonymous contract call.
    return deny('sign_token_call_unsupported', `${selector} on ${to} is not a token call bursar decodes`)
  } else {
    action = { kind: 'contract_call', ...fee, to, value: value.toString(), selector, data }
  }

  const payment = action.kind === 'erc20_transfer' ? { asset: to, payTo: action.payTo, amount: BigInt(action.amount) } : undefined
  const denied = checkRequirements({ requirements, chainId: t.chainId, payment })
  if (denied) return denied

  const transaction: TransactionSerializableEIP1559 = {
    type: 'eip1559',
    chainId: t.chainId,
    nonce: t.nonce,
    to,
    gas,
    maxFeePerGas,
    maxPriorityFeePerGas,
    value,
    data,
  }
  let digest: Hex
  try {
    // viem asserts fee ordering and ranges; a throw is a refusal.
    digest = keccak256(serializeTransaction(transaction))
  } catch {
    return malformed('transaction does not serialize as EIP-1559')
  }
  return { ok: true, action, plan: { kind: 'transaction', digest, transaction } }
}
