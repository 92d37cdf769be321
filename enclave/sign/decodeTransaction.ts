import { type Hex, type TransactionSerializableEIP1559, getAddress, keccak256, serializeTransaction } from 'viem'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { TransactionJson } from '../../shared/schemas/agentRequest.js'
import { type X402Requirements, checkRequirements } from './checkRequirements.js'
import { ERC20_SELECTORS, decodeErc20Call } from './decodeErc20Call.js'
import { parseEip712Integer } from './parseEip712Integer.js'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeTransactionParameters = {
  transaction: TransactionJson
  wallet: string
  requirements: X402Requirements | undefined
}

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/

/**
 * Decodes an unsigned EIP-1559 transaction: a native transfer, an ERC-20
 * transfer / transferFrom / approve (decoded from canonical calldata), or an
 * opaque contract call by selector; the digest is the keccak of the unsigned
 * serialization, computed here.
 */
export function decodeTransaction({ transaction: t, wallet, requirements }: DecodeTransactionParameters): DecodeResult {
  const malformed = (why: string) => deny('sign_tx_malformed', why)
  const u256 = (v: string | undefined) => (v === undefined ? 0n : parseEip712Integer(v, { signed: false, bits: 256 }))
  const gas = u256(t.gas)
  const maxFeePerGas = u256(t.maxFeePerGas)
  const maxPriorityFeePerGas = u256(t.maxPriorityFeePerGas)
  const value = u256(t.value)
  if (gas === undefined || maxFeePerGas === undefined || maxPriorityFeePerGas === undefined || value === undefined) {
    return malformed('gas, fees and value must be uint256')
  }
  if (!Number.isSafeInteger(t.chainId) || t.chainId <= 0) return malformed('chainId must be a positive safe integer')
  if (!Number.isSafeInteger(t.nonce) || t.nonce < 0) return malformed('nonce must be a non-negative safe integer')
  const data = (t.data ?? '0x').toLowerCase() as Hex
  if (!HEX.test(data)) return malformed('data is not even-length hex')
  const to = getAddress(t.to)

  let action: DecodedAction
  if (data === '0x') {
    action = { kind: 'native_transfer', chainId: t.chainId, amount: value.toString(), payTo: to }
  } else if (data.length < 10) {
    return deny('sign_calldata_unknown', 'calldata shorter than a 4-byte selector')
  } else if (ERC20_SELECTORS.has(data.slice(0, 10))) {
    const call = decodeErc20Call(data)
    if (!call) return deny('sign_calldata_malformed', 'ERC-20 calldata is not canonically encoded')
    // SECURITY: an ERC-20 call that also sends native value would move money policy does not see.
    if (value !== 0n) return deny('sign_erc20_native_value', 'ERC-20 call with non-zero native value')
    if (call.method === 'approve') {
      action = { kind: 'erc20_approve', chainId: t.chainId, asset: to, amount: call.amount.toString(), spender: getAddress(call.spender) }
    } else {
      action = {
        kind: 'erc20_transfer',
        chainId: t.chainId,
        asset: to,
        amount: call.amount.toString(),
        payTo: getAddress(call.to),
        from: getAddress(call.method === 'transfer' ? wallet : call.from),
        method: call.method,
      }
    }
  } else {
    action = { kind: 'contract_call', chainId: t.chainId, to, value: value.toString(), selector: data.slice(0, 10) }
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
