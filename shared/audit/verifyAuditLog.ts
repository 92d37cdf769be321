import type { KeyObject } from 'node:crypto'
import { canonicalJson } from '../canonical/canonicalJson.js'
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditHead,
  AuditEntrySchema,
  CHAIN_ID_REGEX,
} from './auditEntry.js'
import { AuditCheckpointSchema } from './auditCheckpoint.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { GENESIS_HASH, hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { joinWalletRuns, type WalletRun, WalletThreads } from './walletThreads.js'

export type VerifyAuditLogParameters = {
  /** Entries in log order. A log may start after genesis only when anchored by `sinceHead` at seq - 1. */
  entries: readonly AuditEntry[]
  /** Hash recorded beside each entry in the export (same index as `entries`); checked when present. */
  hashes?: readonly (string | undefined)[] | undefined
  checkpoints?: readonly AuditCheckpoint[] | undefined
  /** The enclave's attested Ed25519 receipt key. */
  publicKey: Ed25519PublicKeyInput
  /** A head the auditor saw before (high-water mark): must be in this log, unchanged. Of the root chain. */
  sinceHead?: { seq?: number | undefined; hash: string } | undefined
  /** A head the log must reach (e.g. from an attestation document or a receipt). Of the root chain. */
  expectedHead?: AuditHead | undefined
  /**
   * Issue 15 step 4: the export's other chains (`entries`, `hashes`, `checkpoints` above are the root chain's). Each is
   * verified whole from its seq-0 `chain_started` by its own links and checkpoints; wallet threads run across them.
   */
  chains?: readonly AuditChainInput[] | undefined
}

/** One non-root chain of an export (parseAuditJsonl's `chains`). */
export type AuditChainInput = {
  chain: string
  entries: readonly AuditEntry[]
  hashes?: readonly (string | undefined)[] | undefined
  checkpoints?: readonly AuditCheckpoint[] | undefined
}

/** What verified of one chain: its head, its highest signed checkpoint and its entry count. */
export type AuditChainVerdict = { chain: string; head: AuditHead; signedHead: AuditHead | null; count: number }

export type VerifyAuditLogReturnType =
  | {
      ok: true
      /** Last entry verified (seq -1 and GENESIS_HASH for an empty log). Of the root chain. */
      head: AuditHead
      /** Highest signed checkpoint: entries after it are not yet authenticated by the enclave. */
      signedHead: AuditHead | null
      count: number
      /** Issue 15 step 4, when the export has other chains: each one's verdict, in export order. */
      chains?: AuditChainVerdict[]
    }
  | { ok: false; code: AuditCode; seq: number; message: string; chain?: string }

export type Failure = { code: AuditCode; seq: number; message: string }

/**
 * Verifies an exported audit log offline: hash links, sequence, recorded
 * hashes, checkpoint signatures and heads, forks, truncation and rollback.
 * Returns the lowest broken sequence number as a value; throws only for a bad key.
 * Several chains (issue 15 step 4): the root chain first, then each other chain in order (the first broken chain's
 * verdict, with `chain`), then the wallet threads across chains (joinWalletRuns: `audit_wallet_forked`, `audit_thread_broken`).
 */
export function verifyAuditLog(params: VerifyAuditLogParameters): VerifyAuditLogReturnType {
  const { entries, hashes: recorded, sinceHead, expectedHead } = params
  const key = toEd25519PublicKey(params.publicKey)
  let failure: Failure | undefined
  // Keep the lowest seq; on a tie the earlier (more specific) check wins.
  const fail = (code: AuditCode, seq: number, message: string) => {
    if (failure === undefined || seq < failure.seq) failure = { code, seq, message }
  }

  // A partial log must be anchored by the auditor's own earlier head.
  const firstSeq = (entries[0] as { seq?: unknown } | undefined)?.seq
  const anchored =
    typeof firstSeq === 'number' && firstSeq > 0 && sinceHead?.seq === firstSeq - 1
  const start = anchored ? firstSeq : 0
  const anchorHash = anchored ? sinceHead.hash.toLowerCase() : GENESIS_HASH
  const multi = params.chains !== undefined && params.chains.length > 0
  const runs: WalletRun[] = []

  const root = chainEntries(entries, recorded, '', start, anchorHash, new WalletThreads(anchored, multi ? { chain: '', out: runs } : undefined), fail)
  const verdict = finishAuditVerify({ hashes: listOf(root.hashes), start, anchorHash, prev: root.prev, checkpoints: params.checkpoints, key, sinceHead, expectedHead, failure })
  if (!multi || !verdict.ok) return verdict
  const chains: AuditChainVerdict[] = []
  const seen = new Set<string>()
  for (const c of params.chains ?? []) {
    const at = { chain: c.chain }
    if (typeof c.chain !== 'string' || !CHAIN_ID_REGEX.test(c.chain) || seen.has(c.chain)) return { ok: false, code: AUDIT_CODES.malformed, seq: 0, message: `chain id ${JSON.stringify(c.chain)} is not 32 hex digits, or appears twice`, ...at }
    seen.add(c.chain)
    failure = undefined
    const own = chainEntries(c.entries, c.hashes, c.chain, 0, GENESIS_HASH, new WalletThreads(false, { chain: c.chain, out: runs }, true), fail)
    const v = finishAuditVerify({ hashes: listOf(own.hashes), start: 0, anchorHash: GENESIS_HASH, prev: own.prev, checkpoints: c.checkpoints, key, sinceHead: undefined, expectedHead: undefined, failure, chain: c.chain })
    if (!v.ok) return { ...v, ...at }
    chains.push({ chain: c.chain, head: v.head, signedHead: v.signedHead, count: v.count })
  }
  const signed = new Map([['', verdict.signedHead?.seq ?? -1], ...chains.map((c) => [c.chain, c.signedHead?.seq ?? -1] as const)])
  const joined = joinWalletRuns(runs, anchored, signed)
  if (joined !== undefined) return { ok: false, ...joined }
  return { ...verdict, chains }
}

/**
 * One chain's entry loop: each entry well-formed, at the next seq, linked to its predecessor, matching its recorded
 * hash, naming a chain only as its chain's seq-0 `chain_started`, continuing its wallet's thread. Stops at the first
 * failure (reported through `fail`); returns the verified hashes and the last one.
 */
function chainEntries(
  entries: readonly AuditEntry[],
  recorded: readonly (string | undefined)[] | undefined,
  chain: string,
  start: number,
  anchorHash: string,
  threads: WalletThreads,
  fail: (code: AuditCode, seq: number, message: string) => void,
): { hashes: string[]; prev: string } {
  let prev = anchorHash
  // Entries: stop at the first broken one; everything after it is unverifiable.
  const hashes: string[] = []
  for (let i = 0; i < entries.length; i++) {
    const expected = start + i
    const e = entries[i]
    if (!AuditEntrySchema.safeParse(e).success) {
      fail(AUDIT_CODES.malformed, expected, `entry at position ${i} (expected seq ${expected}) is malformed`)
      break
    }
    const entry = e as AuditEntry
    if (entry.seq !== expected) {
      misplaced(entries, i, expected, start, hashes, fail)
      break
    }
    if (entry.prevHash !== prev) {
      fail(AUDIT_CODES.prevHashMismatch, expected, `seq ${expected}: prevHash ${entry.prevHash} is not the hash of seq ${expected - 1} (${prev})`)
      break
    }
    const hash = safeHash(entry)
    if (hash === undefined) {
      fail(AUDIT_CODES.malformed, expected, `seq ${expected} cannot be canonicalized`)
      break
    }
    const claimed = recorded?.[i]
    if (claimed !== undefined && claimed.toLowerCase() !== hash) {
      fail(AUDIT_CODES.entryModified, expected, `seq ${expected}: content hashes to ${hash}, recorded hash is ${claimed}`)
      break
    }
    const wrong = chainStartBreak(entry, chain)
    if (wrong !== undefined) {
      fail(wrong.code, expected, `seq ${expected}: ${wrong.message}`)
      break
    }
    const broken = threads.next(entry, hash, expected)
    if (broken !== undefined) {
      fail(AUDIT_CODES.threadBroken, expected, `seq ${expected}: ${broken}`)
      break
    }
    hashes.push(hash)
    prev = hash
  }
  return { hashes, prev }
}

/**
 * Issue 15 step 4: a non-root chain's seq-0 entry is `chain_started` naming that chain; no other entry names a chain
 * (`chain`, `core`), and the root chain has no `chain_started`. Undefined when the entry is right where it stands.
 */
export function chainStartBreak(entry: AuditEntry, chain: string): { code: AuditCode; message: string } | undefined {
  const names = entry.event === 'chain_started' || entry.chain !== undefined || entry.core !== undefined
  if (!names) return chain !== '' && entry.seq === 0 ? { code: AUDIT_CODES.malformed, message: `chain ${chain} must start with chain_started, starts with ${entry.event}` } : undefined
  if (chain === '') return { code: AUDIT_CODES.chainMismatch, message: `a ${entry.event} naming chain ${entry.chain ?? '(none)'} among the root chain's entries (another chain's lines without their header?)` }
  if (entry.seq !== 0 || entry.event !== 'chain_started' || entry.chain === undefined) return { code: AUDIT_CODES.malformed, message: 'only a chain\'s seq-0 entry, chain_started, names a chain (chain, core)' }
  if (entry.chain !== chain) return { code: AUDIT_CODES.chainMismatch, message: `chain_started names chain ${entry.chain}, presented as chain ${chain}` }
  return undefined
}

function safeHash(entry: AuditEntry): string | undefined {
  try {
    return hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry))
  } catch {
    return undefined
  }
}

/** Classifies an entry whose seq is not the expected one: fork, duplicate, reorder or gap. */
function misplaced(
  entries: readonly AuditEntry[],
  i: number,
  expected: number,
  start: number,
  hashes: readonly string[],
  fail: (code: AuditCode, seq: number, message: string) => void,
): void {
  const entry = entries[i] as AuditEntry
  if (entry.seq < expected) {
    const earlier = hashes[entry.seq - start]
    if (earlier !== undefined && earlier !== safeHash(entry))
      fail(AUDIT_CODES.fork, entry.seq, `two different entries for seq ${entry.seq}`)
    else fail(AUDIT_CODES.outOfOrder, entry.seq, `seq ${entry.seq} appears again after seq ${expected - 1}`)
    return
  }
  for (let j = i + 1; j < entries.length; j++) {
    if ((entries[j] as { seq?: unknown } | undefined)?.seq === expected) {
      fail(AUDIT_CODES.outOfOrder, expected, `seq ${expected} appears out of order (seq ${entry.seq} comes first)`)
      return
    }
  }
  fail(AUDIT_CODES.sequenceGap, expected, `seq ${expected} is missing (next entry is seq ${entry.seq})`)
}

function findSeq(hashes: HashList, start: number, anchor: string, hash: string): number | undefined {
  const wanted = hash.toLowerCase()
  if (wanted === anchor) return start - 1
  const i = hashes.indexOf(wanted)
  return i < 0 ? undefined : start + i
}

/** Entry hashes by position: `get` is undefined outside 0..length-1 (a plain array, or the fast path's packed digests). */
export type HashList = { readonly length: number; get(i: number): string | undefined; indexOf(hash: string): number }

const listOf = (hashes: readonly string[]): HashList => ({
  length: hashes.length,
  get: (i) => hashes[i],
  indexOf: (hash) => hashes.indexOf(hash),
})

export type FinishAuditVerifyParameters = {
  /** Entry hashes from seq `start` on, as far as the entries verified. */
  hashes: HashList
  start: number
  anchorHash: string
  /** Hash of the last verified entry (anchorHash when none). */
  prev: string
  checkpoints: readonly AuditCheckpoint[] | undefined
  key: KeyObject
  sinceHead: VerifyAuditLogParameters['sinceHead']
  expectedHead: AuditHead | undefined
  /** The entries' own failure, if any. */
  failure: Failure | undefined
  /** Issue 15 step 4: the chain these checkpoints must name ('' or absent: the root chain, whose checkpoints name none). */
  chain?: string | undefined
}

/**
 * The checks after the entry loop: checkpoint signatures, forks and heads,
 * the auditor's sinceHead and expectedHead. Shared by verifyAuditLog and the
 * verifier-only fast path (verifyAuditJsonl), so both decide the same way.
 */
export function finishAuditVerify(p: FinishAuditVerifyParameters): VerifyAuditLogReturnType {
  const { hashes, start, anchorHash, prev, key, sinceHead, expectedHead } = p
  let failure = p.failure
  const fail = (code: AuditCode, seq: number, message: string) => {
    if (failure === undefined || seq < failure.seq) failure = { code, seq, message }
  }
  const last = start + hashes.length - 1
  const hashAt = (seq: number): string | undefined =>
    seq === start - 1 ? anchorHash : hashes.get(seq - start)

  // Checkpoints: signature, fork between signed heads, head against the log.
  const signed = new Map<number, string>()
  for (const cp of p.checkpoints ?? []) {
    const parsed = AuditCheckpointSchema.safeParse(cp)
    if (!parsed.success) {
      const seq = typeof (cp as { seq?: unknown }).seq === 'number' ? (cp as { seq: number }).seq : 0
      fail(AUDIT_CODES.malformed, seq, `checkpoint for seq ${seq} is malformed`)
      continue
    }
    // Issue 15 step 4: a checkpoint line without `chain` is its section's (the header names it); one with `chain` must name it.
    if (!verifyAuditCheckpoint(cp.chain === undefined && p.chain ? { ...cp, chain: p.chain } : cp, key)) {
      fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`)
      continue
    }
    if (cp.chain !== undefined && cp.chain !== (p.chain ?? '')) {
      fail(AUDIT_CODES.chainMismatch, cp.seq, `checkpoint for seq ${cp.seq} is ${cp.chain === undefined ? "the root chain's" : `chain ${cp.chain}'s`}, presented for ${p.chain ? `chain ${p.chain}` : 'the root chain'}`)
      continue
    }
    const other = signed.get(cp.seq)
    if (other !== undefined && other !== cp.head) {
      fail(AUDIT_CODES.fork, cp.seq, `two validly signed checkpoints for seq ${cp.seq} with heads ${other} and ${cp.head}: proof of a fork`)
      continue
    }
    signed.set(cp.seq, cp.head)
    if (cp.seq < start - 1) continue // before a partial log's anchor: checked when that part was verified
    if (cp.seq > last) fail(AUDIT_CODES.truncated, last + 1, `log ends at seq ${last}, before the signed checkpoint at seq ${cp.seq}`)
    else if (hashAt(cp.seq) !== cp.head)
      fail(AUDIT_CODES.checkpointMismatch, cp.seq, `signed head at seq ${cp.seq} is ${cp.head}, the log's entry hashes to ${hashAt(cp.seq)}`)
  }

  if (sinceHead !== undefined) {
    const seq = sinceHead.seq ?? findSeq(hashes, start, anchorHash, sinceHead.hash)
    if (seq === undefined) fail(AUDIT_CODES.rollback, last + 1, `the head seen before (${sinceHead.hash}) is not in this log`)
    else if (seq > last) fail(AUDIT_CODES.rollback, last + 1, `log ends at seq ${last}, before the head seen at seq ${seq}`)
    else if (seq < start - 1 || hashAt(seq) !== sinceHead.hash.toLowerCase())
      fail(AUDIT_CODES.rollback, seq, `seq ${seq} hashes to ${hashAt(seq) ?? '(not in log)'}, the head seen before was ${sinceHead.hash}`)
  }
  if (expectedHead !== undefined) {
    if (expectedHead.seq > last) fail(AUDIT_CODES.truncated, last + 1, `log ends at seq ${last}, before the expected head at seq ${expectedHead.seq}`)
    else if (hashAt(expectedHead.seq) !== expectedHead.hash.toLowerCase())
      fail(AUDIT_CODES.headMismatch, expectedHead.seq, `seq ${expectedHead.seq} hashes to ${hashAt(expectedHead.seq) ?? '(not in log)'}, expected ${expectedHead.hash}`)
  }

  if (failure !== undefined) return { ok: false, ...failure }
  let signedHead: AuditHead | null = null
  for (const [seq, hash] of signed) if (signedHead === null || seq > signedHead.seq) signedHead = { seq, hash }
  return { ok: true, head: { seq: last, hash: prev }, signedHead, count: hashes.length }
}
