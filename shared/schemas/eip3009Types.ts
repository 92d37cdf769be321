/** The EIP-3009 authorization struct (TransferWithAuthorization / ReceiveWithAuthorization) in EIP-712 form. */
export const EIP3009_FIELDS = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
] as const
