import { z } from 'zod'

/**
 * What the enclave decoded from the bytes it is asked to sign: the only input
 * policy evaluation sees. Never built from the agent's own description.
 * Amounts are exact base-unit integers as decimal strings.
 */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const uint = z.string().regex(/^(0|[1-9][0-9]*)$/)

export const DecodedActionSchema = z.discriminatedUnion('kind', [
  // EIP-3009 TransferWithAuthorization / ReceiveWithAuthorization (x402 exact scheme).
  z
    .object({
      kind: z.literal('eip3009'),
      primaryType: z.enum(['TransferWithAuthorization', 'ReceiveWithAuthorization']),
      chainId: z.number().int().positive(),
      asset: address, // token contract = EIP-712 verifyingContract
      amount: uint, // value
      payTo: address, // to
      from: address,
      validAfter: z.number().int().nonnegative(), // unix seconds
      validBefore: z.number().int().nonnegative(), // unix seconds
      nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    })
    .strict(),
  // EIP-1559 transaction carrying an ERC-20 transfer / transferFrom.
  z
    .object({
      kind: z.literal('erc20_transfer'),
      chainId: z.number().int().positive(),
      asset: address,
      amount: uint,
      payTo: address,
      from: address, // token owner (wallet for transfer; decoded `from` for transferFrom)
      method: z.enum(['transfer', 'transferFrom']),
    })
    .strict(),
  // EIP-1559 transaction carrying an ERC-20 approve.
  z
    .object({
      kind: z.literal('erc20_approve'),
      chainId: z.number().int().positive(),
      asset: address,
      amount: uint,
      spender: address,
    })
    .strict(),
  // EIP-1559 transaction moving native value with empty calldata.
  z
    .object({
      kind: z.literal('native_transfer'),
      chainId: z.number().int().positive(),
      amount: uint, // wei
      payTo: address,
    })
    .strict(),
  // EIP-1559 transaction with calldata bursar does not decode (contract call).
  z
    .object({
      kind: z.literal('contract_call'),
      chainId: z.number().int().positive(),
      to: address,
      value: uint,
      selector: z.string().regex(/^0x[0-9a-fA-F]{8}$/),
    })
    .strict(),
  // Any other EIP-712 typed data (allowed only by domain + primaryType).
  z
    .object({
      kind: z.literal('typed_data'),
      chainId: z.number().int().positive().nullable(),
      verifyingContract: address.nullable(),
      domainName: z.string().nullable(),
      domainVersion: z.string().nullable(),
      primaryType: z.string(),
    })
    .strict(),
  // EIP-191 personal message (off unless the policy allows it).
  z.object({ kind: z.literal('raw_message'), length: z.number().int().nonnegative() }).strict(),
])
export type DecodedAction = z.infer<typeof DecodedActionSchema>

/** Service context the SDK reports; advisory (the agent can lie about it), checked only against host allow/deny lists. */
export const ServiceContextSchema = z
  .object({
    resourceUrl: z.string().max(2048).optional(),
    reason: z.string().max(280).optional(),
  })
  .strict()
export type ServiceContext = z.infer<typeof ServiceContextSchema>
