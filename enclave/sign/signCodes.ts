/**
 * Stable snake_case refusal codes of the enclave's sign-request decoder. Each
 * is returned as a value (never thrown) and crosses the boundary as-is.
 */
export const SIGN_CODES = {
  /** The request's op is not one the enclave knows how to decode. */
  sign_op_unsupported: 'sign_op_unsupported',
  /** A request that slipped past the schema and cannot be decoded at all. */
  sign_request_malformed: 'sign_request_malformed',
  /** The request names a different wallet than the one the agent is bound to. */
  sign_wallet_mismatch: 'sign_wallet_mismatch',
  /** EIP-712 typed data that does not validate (types, values, domain). */
  sign_typed_data_malformed: 'sign_typed_data_malformed',
  /** An EIP-3009 payment whose (chainId, verifyingContract) is not in the policy's token registry. */
  sign_domain_not_in_registry: 'sign_domain_not_in_registry',
  /** An EIP-3009 payment whose domain name/version/salt differs from the registry entry. */
  sign_domain_mismatch: 'sign_domain_mismatch',
  /** The registry holds two different entries for the same (chainId, asset). */
  sign_registry_ambiguous: 'sign_registry_ambiguous',
  /** TransferWithAuthorization / ReceiveWithAuthorization not in the exact EIP-3009 shape. */
  sign_eip3009_shape_invalid: 'sign_eip3009_shape_invalid',
  /** The authorization's `from` is not the wallet that would sign it. */
  sign_from_not_wallet: 'sign_from_not_wallet',
  /** The chain signed for differs from the chain the x402 requirements name. */
  sign_chain_mismatch: 'sign_chain_mismatch',
  /** The x402 requirements the SDK passed disagree with what is being signed. */
  sign_requirements_mismatch: 'sign_requirements_mismatch',
  /** Calldata too short to carry a 4-byte selector. */
  sign_calldata_unknown: 'sign_calldata_unknown',
  /** Calldata with an ERC-20 selector that is not its canonical ABI encoding (bad or trailing bytes). */
  sign_calldata_malformed: 'sign_calldata_malformed',
  /** An ERC-20 call that also moves native value. */
  sign_erc20_native_value: 'sign_erc20_native_value',
  /** A transaction that cannot be serialized as EIP-1559 (ranges, fees, hex). */
  sign_tx_malformed: 'sign_tx_malformed',
  /** A personal message that is not valid text or even-length hex. */
  sign_message_malformed: 'sign_message_malformed',
  /** signPlan was handed a plan whose digest does not match its content (a bug, thrown). */
  sign_plan_inconsistent: 'sign_plan_inconsistent',
  /** signPlan was handed a private key that is not a valid secp256k1 scalar (thrown). */
  sign_key_invalid: 'sign_key_invalid',
} as const

export type SignCode = keyof typeof SIGN_CODES
