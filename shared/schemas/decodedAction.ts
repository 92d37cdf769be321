import * as z from 'zod'
import { TypedDataJsonSchema } from './agentRequest.js'

/**
 * What the enclave decoded from the exact bytes it is asked to sign: the only
 * input policy evaluation sees, never built from the agent's description.
 * One schema per action kind (core/kinds/ holds what each kind means: its
 * spends, validity, approval identity and audit line). Amounts are exact
 * base-unit integers as decimal strings; addresses are checksummed.
 */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/)
const safe = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const chainId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)
const bytes32 = z.string().regex(/^0x[0-9a-f]{64}$/)
const seconds = safe

/** The fields of an unsigned EIP-1559 transaction that are not its call: they bound its fee and order. */
const tx = { chainId, nonce: safe, gas: uint, maxFeePerGas: uint, maxPriorityFeePerGas: uint }
/** `amount` of token `asset` on `chainId`. */
const token = { chainId, asset: address, amount: uint }
/** An authorization's validity window (unix seconds). */
const window = { validAfter: seconds, validBefore: seconds }

export const DecodedActionSchema = z.discriminatedUnion('kind', [
  /** EIP-3009 TransferWithAuthorization / ReceiveWithAuthorization (typed data; x402 exact). */
  z.strictObject({ kind: z.literal('eip3009'), primaryType: z.enum(['TransferWithAuthorization', 'ReceiveWithAuthorization']), ...token, payTo: address, from: address, ...window, nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
  /** EIP-2612 Permit (typed data): an allowance of `amount` to `spender` once submitted. */
  z.strictObject({ kind: z.literal('erc2612_permit'), chainId, asset: address, owner: address, spender: address, amount: uint, nonce: uint, deadline: uint }),
  /** Permit2 PermitTransferFrom / PermitWitnessTransferFrom (typed data): `spender` may move `amount` once. */
  z.strictObject({
    kind: z.literal('permit2_transfer'),
    primaryType: z.enum(['PermitTransferFrom', 'PermitWitnessTransferFrom']),
    ...token,
    spender: address,
    /** The recipient when the spender is an x402 Permit2 proxy that pays the witness's `to`; else null. */
    payTo: address.nullable(),
    nonce: uint,
    deadline: uint,
    /**
     * The witness struct (x402: {to, validAfter[, facilitator]}), values as strings; `struct` its EIP-712 type as
     * signed (`Witness(address to,uint256 validAfter)`: field types and order), so an approval binds them too; the
     * decoder always sets it (optional only so audit entries and sealed pendings written before it still parse).
     */
    witness: z.strictObject({ type: z.string().max(64), struct: z.string().max(1024).optional(), fields: z.record(z.string(), z.string()) }).nullable(),
  }),
  /**
   * x402 upto (typed data): Permit2 PermitWitnessTransferFrom to the canonical upto proxy, witness {to, facilitator,
   * validAfter}: `facilitator` may move up to `amount` to `payTo`, once, from `validAfter` until `deadline`.
   */
  z.strictObject({ kind: z.literal('upto'), ...token, payTo: address, facilitator: address, nonce: uint, deadline: uint, validAfter: uint }),
  /**
   * x402 batch-settlement escrow deposit (typed data): an EIP-3009 ReceiveWithAuthorization of `amount` to the
   * canonical deposit collector, whose nonce binds it to channel `channelId` (payer = the wallet, vouchers signed
   * only by the wallet, funds claimable by `receiver` only against vouchers). Counts against the locked-funds budget.
   */
  z.strictObject({ kind: z.literal('batch_deposit'), ...token, channelId: bytes32, receiver: address, escrow: address, ...window, nonce: bytes32 }),
  /**
   * x402 batch-settlement voucher (typed data): `receiver` may claim up to `total` (cumulative) from channel
   * `channelId`. `signedBefore` is the highest total the enclave signed for the channel before (set in the writer):
   * only the increase counts.
   */
  z.strictObject({ kind: z.literal('batch_voucher'), chainId, asset: address, channelId: bytes32, receiver: address, escrow: address, total: uint, signedBefore: uint }),
  /**
   * x402 auth-capture (typed data): an EIP-3009 ReceiveWithAuthorization of `amount` to an auth-capture escrow's
   * collector, bound to a PaymentInfo (every field its nonce hashes): `operator` may capture up to `amount` to
   * `receiver` (a fee of `minFeeBps`–`maxFeeBps` to `feeReceiver`) until `captureDeadline`, void it, or refund until
   * `refundDeadline`. `salt` is free, as the nonce it makes (an x402 retry's fresh one). The decoder always sets
   * minFeeBps and salt (optional only so audit entries and sealed pendings written before them still parse).
   */
  z.strictObject({ kind: z.literal('auth_capture'), ...token, receiver: address, operator: address, feeReceiver: address, minFeeBps: z.number().int().min(0).max(10_000).optional(), maxFeeBps: z.number().int().min(0).max(10_000), escrow: address, ...window, captureDeadline: seconds, refundDeadline: seconds, salt: bytes32.optional(), nonce: bytes32 }),
  /** Permit2 PermitSingle (typed data, AllowanceTransfer): an allowance until `expiration`. */
  z.strictObject({ kind: z.literal('permit2_allowance'), ...token, spender: address, expiration: seconds, nonce: safe, sigDeadline: uint }),
  /** EIP-1559 transaction calling an ERC-20 transfer / transferFrom. */
  z.strictObject({ kind: z.literal('erc20_transfer'), ...tx, asset: address, amount: uint, payTo: address, from: address, method: z.enum(['transfer', 'transferFrom']) }),
  /**
   * EIP-1559 transaction calling an ERC-20 approve / increaseAllowance / decreaseAllowance; `amount` is the call's
   * amount: the allowance it grants (approve: the new allowance; increaseAllowance: the increase), or for
   * decreaseAllowance the decrease (it grants nothing: its kind counts 0).
   */
  z.strictObject({ kind: z.literal('erc20_approve'), ...tx, asset: address, amount: uint, spender: address, method: z.enum(['approve', 'increaseAllowance', 'decreaseAllowance']) }),
  /** EIP-1559 transaction calling Permit2.approve(token, spender, amount, expiration). */
  z.strictObject({ kind: z.literal('permit2_approve'), ...tx, asset: address, amount: uint, spender: address, expiration: seconds }),
  /** EIP-1559 transaction moving native value with empty calldata. */
  z.strictObject({ kind: z.literal('native_transfer'), ...tx, amount: uint, payTo: address }),
  /** EIP-1559 transaction calling a contract that is neither a token nor Permit2. */
  z.strictObject({ kind: z.literal('contract_call'), ...tx, to: address, value: uint, selector: z.string().regex(/^0x[0-9a-f]{8}$/), data: z.string().regex(/^0x([0-9a-f]{2})*$/) }),
  /** Any other EIP-712 typed data (allowed only by domain + primaryType matchers); the whole content is kept. */
  z.strictObject({
    kind: z.literal('typed_data'),
    chainId: chainId.nullable(),
    verifyingContract: address.nullable(),
    domainName: z.string().nullable(),
    domainVersion: z.string().nullable(),
    primaryType: z.string(),
    typedData: TypedDataJsonSchema,
  }),
  /** EIP-191 personal message (off unless the policy allows it); the whole message is kept. */
  z.strictObject({ kind: z.literal('raw_message'), length: z.number().int().nonnegative(), message: z.union([z.strictObject({ text: z.string() }), z.strictObject({ raw: z.string() })]) }),
])
export type DecodedAction = z.infer<typeof DecodedActionSchema>
export type ActionKind = DecodedAction['kind']
/** Every action kind, in DecodedActionSchema's order (the one list of them: a policy names kinds from it). */
export const ACTION_KINDS = DecodedActionSchema.options.map((o) => o.shape.kind.value) as [ActionKind, ...ActionKind[]]
export const ActionKindSchema = z.enum(ACTION_KINDS)
export type ActionOf<K extends ActionKind> = Extract<DecodedAction, { kind: K }>
