import * as z from 'zod'

/**
 * What an agent signs (Ed25519, over the exact UTF-8 bytes of the JSON text
 * it sends): the host forwards the text unchanged, the enclave verifies the
 * signature over those bytes and only then parses them with this schema.
 * Numbers that can exceed 2^53 (amounts, nonces, gas) are decimal strings.
 */
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const u48 = z.number().int().nonnegative().max(2 ** 48 - 1)
const uint = z.string().regex(/^(0|[1-9][0-9]*)$/)

/** EIP-712 typed data as JSON (viem's TypedDataDefinition with bigints as decimal strings). */
export const TypedDataJsonSchema = z.strictObject({
  domain: z.strictObject({
    name: z.string().optional(),
    version: z.string().optional(),
    chainId: z.union([z.number().int(), uint]).optional(),
    verifyingContract: address.optional(),
    salt: hex.optional(),
  }),
  types: z.record(z.string(), z.array(z.strictObject({ name: z.string(), type: z.string() }))),
  primaryType: z.string(),
  message: z.record(z.string(), z.unknown()),
})
export type TypedDataJson = z.infer<typeof TypedDataJsonSchema>

/** An unsigned EIP-1559 transaction (fields as viem's TransactionSerializableEIP1559, bigints as strings). */
export const TransactionJsonSchema = z.strictObject({
  type: z.literal('eip1559').optional(),
  chainId: z.number().int().positive(),
  to: address,
  nonce: z.number().int().nonnegative(),
  gas: uint,
  maxFeePerGas: uint,
  maxPriorityFeePerGas: uint,
  value: uint.optional(),
  data: hex.optional(),
})
export type TransactionJson = z.infer<typeof TransactionJsonSchema>

export const X402RequirementsJsonSchema = z.looseObject({
  scheme: z.string(),
  network: z.string(),
  asset: z.string(),
  amount: z.string(),
  payTo: z.string(),
  maxTimeoutSeconds: z.number().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
})

export const AgentRequestContextSchema = z.strictObject({
  /** Advisory: the resource the SDK says it is paying for (used only by host allow/deny lists). */
  resourceUrl: z.string().max(2048).optional(),
  /** The agent's stated reason, stored as data, never interpreted. */
  reason: z.string().max(280).optional(),
  /** The 402's requirements the SDK answered, advisory; `extra` is only compared against the registry. */
  requirements: X402RequirementsJsonSchema.optional(),
  /**
   * x402 batch-settlement: the channel a voucher or escrow deposit is for (bound by the enclave: the channel id is
   * recomputed from `config`, a deposit's EIP-3009 nonce from the id and `depositSalt`). Not advisory once bound.
   */
  batchChannel: z
    .strictObject({
      config: z.strictObject({ payer: address, payerAuthorizer: address, receiver: address, receiverAuthorizer: address, token: address, withdrawDelay: z.number().int().nonnegative().max(2 ** 40 - 1), salt: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
      depositSalt: z.string().regex(/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/).optional(),
    })
    .optional(),
  /** x402 auth-capture: the PaymentInfo an authorization to the escrow's collector is for (bound by its nonce). */
  authCapture: z
    .strictObject({
      operator: address, receiver: address, token: address, maxAmount: z.string().regex(/^[0-9]{1,36}$/), preApprovalExpiry: u48, authorizationExpiry: u48,
      refundExpiry: u48, minFeeBps: z.number().int().min(0).max(65_535), maxFeeBps: z.number().int().min(0).max(65_535), feeReceiver: address, salt: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
    })
    .optional(),
})

/** The longest a request may live (expiresAt - issuedAt): the enclave's replay window on issuedAt. */
export const REQUEST_MAX_LIFETIME_MS = 30_000
/** How far ahead of the enclave's clock an agent's issuedAt may be; the enclave also refuses requests issued before its start plus this (the host's lookup skip relies on it). */
export const AGENT_CLOCK_AHEAD_MS = 2_000

/** Who asks, for which wallet, and the replay guard: the fields every agent-signed request starts with (AgentReadRequest too). */
export const AGENT_SIGNED_FIELDS = {
  v: z.literal(1),
  agentId: z.string().regex(/^agt_[0-9a-f]{40}$/),
  wallet: address,
  /** 16 random bytes, hex; unique per agent. */
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
  /** Milliseconds since the epoch, agent's clock. */
  issuedAt: z.number().int().nonnegative(),
}

const base = {
  ...AGENT_SIGNED_FIELDS,
  /**
   * The agent's deadline (ms since the epoch, agent's clock): the enclave signs nothing for this request after it,
   * by its own clock. At most issuedAt + REQUEST_MAX_LIFETIME_MS (the replay window), else `request_deadline_invalid`.
   */
  expiresAt: z.number().int().nonnegative(),
  context: AgentRequestContextSchema.optional(),
  /** An owner-issued single-use spend permit this payment uses (checked in the enclave against the permit's locks). */
  permitId: z.string().min(1).max(80).optional(),
  /** Ask what the enclave would decide, without signing, counting or auditing (the enclave's own dry run). */
  dryRun: z.literal(true).optional(),
}

export const AgentRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ ...base, op: z.literal('signTypedData'), typedData: TypedDataJsonSchema }),
  z.strictObject({ ...base, op: z.literal('signTransaction'), transaction: TransactionJsonSchema }),
  z.strictObject({
    ...base,
    op: z.literal('signMessage'),
    /** EIP-191 personal message: UTF-8 text or raw bytes as hex. */
    message: z.union([z.strictObject({ text: z.string().max(4096) }), z.strictObject({ raw: hex.max(8194) })]),
  }),
])
export type AgentRequest = z.infer<typeof AgentRequestSchema>
