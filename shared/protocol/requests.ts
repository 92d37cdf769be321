import * as z from 'zod'

/**
 * The host→enclave half of THE protocol: every request that crosses the channel, as one zod discriminated union,
 * parsed by the enclave. The answers (results, persist blocks, errors) are in messages.ts, which re-exports this
 * file: the host parses them; the enclave only takes their types.
 */
export const PROTOCOL_VERSION = 1

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes')
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)

/** An owner act: EIP-712 message (JSON text) + the owner's signature; SetPolicy carries the policy JSON text. */
export const OwnerActBodySchema = z.strictObject({
  primaryType: z.string().max(64),
  message: z.string().max(64 * 1024),
  signature: hex.max(2 + 2 * 65 * 4),
  policy: z.string().max(256 * 1024).optional(),
})


/**
 * An agent's request: the exact JSON text and its authenticator over the UTF-8 bytes: the agent's Ed25519 signature
 * (hex, 64 bytes) or, inside a session, `s1:<session id>:<HMAC-SHA256 under the session key>` (lower-case hex).
 */
export const AgentSignBodySchema = z.strictObject({
  request: z.string().max(64 * 1024),
  signature: z.string().regex(/^(?:[0-9a-fA-F]{128}|s1:[0-9a-f]{32}:[0-9a-f]{64})$/),
})

export const EnclaveRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocolVersion: z.number().int() }).strict(),
  /** The newest sealed core blob the host has (null on first start) and each wallet's newest blob (issue 15). */
  z.object({ type: z.literal('loadState'), snapshot: bytes.nullable(), wallets: z.array(z.strictObject({ wallet: z.string().max(42), blob: bytes })).max(100_000).optional(),
    /** Issue 15 step 4: start a new chain of the snapshot's lineage (its keys and core id), with no wallets (they come by loadWallet). */
    newChain: z.literal(true).optional() }).strict(),
  /** Audit entries recorded after the snapshot's head, in order, as stored JSON text. */
  z.object({ type: z.literal('replayEntries'), entries: z.array(z.string().max(1 << 20)).max(10_000) }).strict(),
  z.object({ type: z.literal('finishLoad') }).strict(),
  /**
   * A host (re)connecting to a ready enclave: it has every entry through `storedThrough` and snapshots through
   * `snapshotVersion`; the enclave forgets what it kept of those and re-sends the rest in `persist` (F1).
   */
  z.object({ type: z.literal('catchUp'), storedThrough: z.number().int().min(-1), snapshotVersion: z.number().int().min(0) }).strict(),
  z.object({ type: z.literal('ownerAct'), ...OwnerActBodySchema.shape }).strict(),
  /**
   * Issue 12 stage B: governance's decision on the view an ownerAct answered with (`needs: 'governance'`), relayed by
   * the host with the same act: the signer applies it only for the view it sent (docs/trustedClosure.md).
   */
  z.object({ type: z.literal('ownerActDecision'), ...OwnerActBodySchema.shape, decision: bytes.refine((b) => b.length <= 4 << 20, 'decision too long') }).strict(),
  z.object({ type: z.literal('agentSign'), ...AgentSignBodySchema.shape }).strict(),
  z.object({ type: z.literal('attest'), nonce: bytes.refine((b) => b.length <= 512, 'nonce too long').nullable() }).strict(),
  z.object({ type: z.literal('getWallets') }).strict(),
  /** Issue 15 step 3: one wallet's newest blob and its audit entries after it (another chain's, stored JSON text), into a ready enclave. */
  z.object({ type: z.literal('loadWallet'), wallet: z.string().regex(/^0x[0-9a-fA-F]{40}$/), blob: bytes, entries: z.array(z.string().max(1 << 20)).max(10_000) }).strict(),
  /** Issue 15 step 3: seal the wallet's final blob and forget it (its lease here ended). */
  z.object({ type: z.literal('dropWallet'), wallet: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }).strict(),
  /** An agent's signed read of its own state (AgentReadRequest text + Ed25519 signature). */
  z.object({ type: z.literal('agentStatus'), ...AgentSignBodySchema.shape }).strict(),
])
export type EnclaveRequest = z.infer<typeof EnclaveRequestSchema>
export type EnclaveRequestType = EnclaveRequest['type']

export const RequestFrameSchema = z.strictObject({ id: z.number().int().nonnegative().max(2 ** 32), msg: z.unknown() })
