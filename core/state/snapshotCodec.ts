import { decode, encode } from 'cborg'
import * as z from 'zod'
import { type AuditHead, AuditHeadSchema, CHAIN_ID_REGEX, type WalletThreadHead } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { SpendLedgerJsonSchema } from '../ledger/LedgerEvent.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { GovernanceRecordSchemas as g, PolicyRecordSchema, WalletPolicyRecordSchema, hex, policyRecord, uint } from '../../shared/governance/decisionSchema.js'
import type { EncodedIds, GroupedIds } from '../replay/RecentIds.js'
import { cborHead, concat, encodeWithRaw } from './encodeWithRaw.js'
import type { AgentRecord, PolicyRecord, WalletRecord, WalletView } from './stateTypes.js'

/** Plain form of the enclave's core blob: what every wallet shares, and the directory naming each wallet's newest blob. */
export type CoreState = {
  stateVersion: number
  createdAt: number
  receiptKeyPkcs8: Uint8Array
  auditHead: AuditHead | null
  entryMacKey: Uint8Array
  /** Issue 12: the governance link key (absent from cores sealed before it: the enclave makes one). */
  linkKey?: Uint8Array | undefined
  /** Random at the first start, sealed in every wallet blob: a wallet blob of another core (cluster) is refused. */
  coreId: Uint8Array
  createNonces: Array<[string, number]>
  /** Recently decided agent requests ((agent:nonce, decided at)) not sealed in a wallet blob of this seal. */
  replay: Array<[string, number]>
  /** Every wallet: (address, version, SHA-256 of its newest blob). A load needs exactly these blobs. */
  directory: Array<[string, number, Uint8Array]>
  /** Issue 18: the audit seq at this seal (`auditHead` is where replay starts) and the wallets left behind it (seq). */
  sealedSeq?: number | undefined
  behind?: Array<[string, number]> | undefined
  /** Issue 15 step 4: the audit chain this core's enclave writes (absent: the root chain). */
  chain?: string | undefined
}

/** Plain form of one wallet's blob, sealed with walletId = its address and its version. */
/** `thread` (issue 15 step 2): the wallet's audit thread head; absent from blobs sealed before threads. */
export type WalletBlob = { coreId: Uint8Array; version: number; auditSeq: number; replay: Array<[string, number]>; wallet: WalletRecord; thread?: WalletThreadHead | undefined }

const bytes = (n?: number) => z.instanceof(Uint8Array).refine((b) => n === undefined || b.length === n)

const WalletSchema = z.strictObject({
  address: hex(40), privateKey: bytes(32), owner: hex(40), label: z.string(), createdAt: uint, ownerSeq: uint, rolledBack: z.boolean(),
  agents: z.array(z.strictObject({ agentId: z.string(), publicKey: bytes(32), label: z.string(), status: z.enum(['active', 'revoked']), registeredAt: uint })),
  policies: z.array(PolicyRecordSchema),
  ledger: z.string(), // the ledger's JSON text (SpendLedgerJsonSchema)
  // Issue 19: the wallet policy, the owner set, open proposals and scheduled loosenings (the governance records: one schema with decisions').
  walletPolicy: WalletPolicyRecordSchema.optional(),
  governance: g.governance.optional(),
  proposals: g.proposals.optional(),
  scheduled: z.array(z.strictObject({
    actHash: hex(64), agentId: z.string().nullable(), policy: z.strictObject({ ...policyRecord, agentId: z.string().optional(), revoked: z.boolean().optional() }),
    widens: z.array(z.string()), scheduledAt: uint, effectiveAt: uint,
  })).optional(),
  exit: g.exit.optional(), // issue 19: key exit
  held: g.held.optional(),
  loneApproved: g.loneApproved.optional(), // approve-above window
})

/**
 * The sealed blobs' shapes, as the encoders write them. A blob is authenticated (only this enclave's sealer makes
 * one), so these are the typed seam, not a defence: anything else means the blob is not ours.
 */
const CoreSchema = z.strictObject({
  v: z.literal(2),
  stateVersion: uint,
  createdAt: uint,
  receiptKeyPkcs8: bytes(),
  auditHead: AuditHeadSchema.nullable(),
  entryMacKey: bytes(32),
  linkKey: bytes(32).optional(),
  coreId: bytes(16),
  createNonces: z.array(z.tuple([z.string(), uint])),
  replay: z.array(z.tuple([z.string(), uint])),
  directory: z.array(z.tuple([hex(40), uint, bytes(32)])),
  sealedSeq: z.number().int().min(-1).optional(),
  behind: z.array(z.tuple([z.string(), z.number().int().min(-1)])).optional(),
  chain: z.string().regex(CHAIN_ID_REGEX).optional(),
})
/** Format 1 (before per-wallet blobs, 12-01): the whole state in one blob. Read so that an older store loads; the first seal after it writes format 2. */
const LegacySchema = CoreSchema.omit({ coreId: true, directory: true }).extend({ v: z.literal(1), replay: CoreSchema.shape.replay.optional(), wallets: z.array(WalletSchema) })
// Replay ids: [agent:nonce, at], or (replay18, 12-02) grouped per agent: [agent, [[nonce, at], …]]; a blob may hold either.
const idTuple = z.tuple([z.string(), uint])
const WalletBlobSchema = z.strictObject({ v: z.literal(1), coreId: bytes(16), version: uint, auditSeq: z.number().int().min(-1), replay: z.array(z.union([idTuple, z.tuple([z.string(), z.array(idTuple)])])), wallet: WalletSchema, thread: z.strictObject({ walletSeq: uint, hash: hex(64) }).optional() })

/**
 * Compile-time: sealed records have exactly the fields of the in-memory ones, so a field added to a record cannot be
 * left out of the schema (the strict schema would refuse the next load) nor silently dropped. If `sealedFieldsMatch`
 * does not compile, add the new WalletRecord / AgentRecord / PolicyRecord field to SnapshotSchema above.
 */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false
type Sealed = z.infer<typeof WalletSchema>
export type SealedFieldsMatch = [SameKeys<Sealed, WalletRecord>, SameKeys<Sealed['agents'][number], AgentRecord>, SameKeys<Sealed['policies'][number], PolicyRecord>] extends [true, true, true] ? true : never
const sealedFieldsMatch: SealedFieldsMatch = true

/** Serializes the core blob (CBOR). */
export function encodeCore(s: CoreState): Uint8Array {
  return encode({ v: 2, ...s })
}

/**
 * Serializes one wallet's blob (CBOR; Maps become arrays; the ledger stays JSON text, mostly from its series' caches;
 * issue 18: the request ids may come already encoded, grouped per agent, from their per-second caches: the same bytes).
 */
export function encodeWalletBlob(b: WalletBlobInput): Uint8Array {
  return concat(walletBlobParts(b))
}

type WalletBlobInput = Omit<WalletBlob, 'wallet' | 'replay'> & { replay: WalletBlob['replay'] | GroupedIds | EncodedIds; wallet: WalletView }

/** tail37: encodeWalletBlob's bytes as parts (the ledger text and the cached ids not copied again), for the sealer to stream. */
export function walletBlobParts(b: WalletBlobInput): Uint8Array[] {
  const w = b.wallet
  const wallet = { ...w, agents: [...w.agents.values()], policies: [...w.policies.values()], ledger: '' }
  const ledger = new TextEncoder().encode(w.ledger.toJSONText()) // natively: cborg's encoder copies a long string twice
  return encodeWithRaw({ v: 1, ...b, wallet }, { wallet: encodeWithRaw(wallet, { ledger: [cborHead(0x60, ledger.length), ledger] }), ...(!Array.isArray(b.replay) && { replay: b.replay.cbor }) })
}

/** Parses a decrypted core blob by its schema; any shape error means the blob is not ours. */
export function decodeCore(bytes: Uint8Array): CoreState & { legacy?: WalletRecord[] } {
  return parsed(() => {
    const raw = decode(bytes) as { v?: unknown } | null
    if (raw?.v === 1) {
      const { v: _v, wallets, replay, ...s } = LegacySchema.parse(raw)
      return { ...s, coreId: new Uint8Array(0), replay: replay ?? [], directory: [], legacy: wallets.map(toWallet) }
    }
    const { v: _v, ...s } = CoreSchema.parse(raw)
    return s
})
}

/** Parses a decrypted wallet blob by its schema. */
export function decodeWalletBlob(bytes: Uint8Array): WalletBlob {
  return parsed(() => {
    const { v: _v, wallet, replay, ...b } = WalletBlobSchema.parse(decode(bytes))
    const ids = replay.flatMap((r) => (typeof r[1] === 'number' ? [[r[0], r[1]] as [string, number]] : r[1].map(([n, at]): [string, number] => [`${r[0]}:${n}`, at])))
    return { ...b, replay: ids, wallet: toWallet(wallet) }
})
}

function toWallet(w: z.infer<typeof WalletSchema>): WalletRecord {
  return { ...w, agents: new Map(w.agents.map((a) => [a.agentId, a])), policies: new Map(w.policies.map((p) => [p.agentId, p])),
    ledger: SpendLedger.fromJSON(SpendLedgerJsonSchema.parse(JSON.parse(w.ledger))) }
}

function parsed<T>(f: () => T): T {
  try {
    return f()
  } catch (cause) {
    throw new EnclaveError('state_invalid', 'Sealed blob does not decode', { cause })
  }
}
