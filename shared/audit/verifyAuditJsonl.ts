import * as nodeCrypto from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { canonicalJson } from '../canonical/canonicalJson.js'
import { DecodedActionSchema } from '../schemas/decodedAction.js'
import { AUDIT_EVENTS, type AuditCheckpoint, type AuditEntry, AuditEntrySchema, CHAIN_ID_REGEX } from './auditEntry.js'
import { parseAuditJsonl } from './exportFormats.js'
import { AUDIT_ENTRY_TAG, GENESIS_HASH, hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { toEd25519PublicKey } from './toEd25519PublicKey.js'
import { type AuditChainVerdict, chainStartBreak, finishAuditVerify, type HashList, type VerifyAuditLogParameters, type VerifyAuditLogReturnType, verifyAuditLog } from './verifyAuditLog.js'
import { joinWalletRuns, type WalletRun } from './walletThreads.js'

/**
 * Verifier-only fast path for `bursar audit verify` (never imported by the
 * enclave). verifyAuditLog parses every JSONL line, checks it with zod and
 * re-canonicalizes it to hash it; here an entry line that is already in
 * canonical form is checked by a strict byte scanner and its stored bytes are
 * hashed directly (minus the export-only members `hash`, `mac`, `type`).
 *
 * Exactness: the scanner accepts a line only when it can prove that
 * JSON.parse of the line gives an entry the zod schema accepts and whose
 * canonicalJson is exactly the bytes it hashes; anything else (non-ASCII text,
 * escapes other than the canonical short ones, other number forms, other key
 * orders, checkpoints, blank lines) takes the reference steps for that line
 * (JSON.parse, AuditEntrySchema, canonicalJson). The first entry that does not
 * verify, or any line parseAuditJsonl would refuse, sends the whole export to
 * the reference verifier, so failures are reported (or thrown) exactly as
 * verifyAuditLog(parseAuditJsonl(text)) does; the checks after the entries are
 * the same function (finishAuditVerify). The differential test
 * (verifyAuditJsonl.test.ts) runs both on valid and tampered exports.
 */
export type VerifyAuditJsonlParameters = Omit<VerifyAuditLogParameters, 'entries' | 'hashes' | 'checkpoints'> & {
  /** The JSONL export: UTF-8 bytes (preferred) or text. */
  jsonl: Uint8Array | string
}

/** Same answer (or the same AuditError thrown) as verifyAuditLog({ ...parseAuditJsonl(text), ...rest }). */
export function verifyAuditJsonl(params: VerifyAuditJsonlParameters): VerifyAuditLogReturnType {
  const { jsonl, ...rest } = params
  // A string with lone surrogates does not survive UTF-8 encoding: only the reference sees it as given.
  if (typeof jsonl === 'string' && !(jsonl as unknown as { isWellFormed(): boolean }).isWellFormed()) return verifyAuditLog({ ...parseAuditJsonl(jsonl), ...rest })
  const bytes = typeof jsonl === 'string' ? Buffer.from(jsonl, 'utf8') : Buffer.from(jsonl.buffer, jsonl.byteOffset, jsonl.byteLength)
  const fast = fastVerifyAuditJsonl(bytes, rest)
  if (fast !== undefined) return fast
  const text = typeof jsonl === 'string' ? jsonl : bytes.toString('utf8')
  return verifyAuditLog({ ...parseAuditJsonl(text), ...rest })
}

type Rest = Omit<VerifyAuditJsonlParameters, 'jsonl'>

const TAG = Buffer.from(AUDIT_ENTRY_TAG, 'ascii')
const PRE = TAG.length + 32
// chain_started (issue 15 step 4) never passes the scanner: it carries `chain`/`core`, and only a chain's seq 0 may be one.
const EVENTS = new Set<string>(AUDIT_EVENTS.filter((e) => e !== 'chain_started'))
const VERDICTS = new Set(['allow', 'deny', 'pending', 'info'])
const PRIMARY_3009 = new Set(['TransferWithAuthorization', 'ReceiveWithAuthorization'])
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const MAX_DEPTH = 64
/** Not fast: this line takes the reference steps. */
const NO = -1

const Q = 0x22 // "
const BS = 0x5c // \
const COMMA = 0x2c
const COLON = 0x3a
/** Bit 1: allowed in lowercase hex (0-9 a-f); bit 2: allowed in any-case hex (0-9 a-f A-F). */
const HEX_CLASS = new Uint8Array(256)
for (const c of '0123456789abcdef') HEX_CLASS[c.charCodeAt(0)] = 3
for (const c of 'ABCDEF') HEX_CLASS[c.charCodeAt(0)] = 2
/** A hex digit's value, either case (0 for other bytes). */
const HEX_VALUE = new Uint8Array(256)
for (let v = 0; v < 16; v++) {
  HEX_VALUE[v.toString(16).charCodeAt(0)] = v
  HEX_VALUE[v.toString(16).toUpperCase().charCodeAt(0)] = v
}
/** SHA-256, its 32 bytes as a latin1 string (short-lived, no Buffer): one-shot crypto.hash where Node has it (≥ 20.12), else a Hash object. */
const sha256Latin1: (data: Uint8Array) => string =
  typeof nodeCrypto.hash === 'function'
    ? (data) => nodeCrypto.hash('sha256', data, 'binary')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest('binary')
/** Bytes inside a canonical string: 0 printable ASCII, 1 the closing quote, 2 a backslash, 3 other (control, DEL, non-ASCII: checked as UTF-8). */
const STR_CLASS = new Uint8Array(256).fill(3)
STR_CLASS.fill(0, 0x20, 0x7f)
STR_CLASS[Q] = 1
STR_CLASS[BS] = 2
/**
 * Nonzero in some byte's high bit (& 0x80808080) when one of the four bytes of x (a little-endian word) is not printable
 * ASCII or is " or \ (STR_CLASS ≠ 0): byte < 0x20 (x − 0x20…) & ~x, byte > 0x7e (x + 0x01…) | x, a zero byte of
 * x ^ 0x22… or x ^ 0x5c…; each test is exact for "some byte", whatever the borrows do to the others.
 */
const strSpecial = (x: number): number => {
  const q = x ^ 0x22222222
  const s = x ^ 0x5c5c5c5c
  return ((x - 0x20202020) & ~x) | (x + 0x01010101) | x | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)
}
/** 1: the byte after a backslash in an escape JSON.stringify prints (\" \\ \b \f \n \r \t). */
const ESCAPED = new Uint8Array(256)
for (const c of '"\\bfnrt') ESCAPED[c.charCodeAt(0)] = 1
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')
/** A byte's two lowercase hex digits as one number: first digit << 8 | second. */
const HEX_PAIR = new Uint16Array(256)
/** The same two digits as a little-endian 16-bit load of them reads: first | second << 8. */
const HEX_LE16 = new Uint16Array(256)
for (let v = 0; v < 256; v++) {
  HEX_PAIR[v] = ((HEX_DIGITS[v >> 4] as number) << 8) | (HEX_DIGITS[v & 15] as number)
  HEX_LE16[v] = (HEX_DIGITS[v >> 4] as number) | ((HEX_DIGITS[v & 15] as number) << 8)
}
const lit = (text: string): Uint8Array => Buffer.from(text, 'latin1')
/**
 * A literal of at least 4 ASCII bytes as little-endian 32-bit words: at 0, 4, 8, … and one more ending at its end
 * (overlapping the one before), compared with unaligned DataView loads (one per 4 bytes, not one per byte).
 */
type Lit = { n: number; w: Int32Array }
const wlit = (text: string): Lit => {
  const bytes = Buffer.from(text, 'latin1')
  const w: number[] = []
  for (let i = 0; i + 4 < bytes.length; i += 4) w.push(bytes.readInt32LE(i))
  w.push(bytes.readInt32LE(bytes.length - 4))
  return { n: bytes.length, w: Int32Array.from(w) }
}
const C_agentId = wlit(',"agentId":')
const C_asset = wlit(',"asset":')
const C_chainId = wlit(',"chainId":')
const C_code = wlit(',"code":')
const C_event = wlit(',"event":')
const C_from = wlit(',"from":')
const C_kind = wlit(',"kind":')
const C_ledger = wlit(',"ledger":')
const C_nonce = wlit(',"nonce":')
const C_payTo = wlit(',"payTo":')
const C_policy = wlit(',"policy":')
const C_prevHash = wlit(',"prevHash":')
const C_primaryType = wlit(',"primaryType":')
const C_reason = wlit(',"reason":')
const C_requestId = wlit(',"requestId":')
const C_rule = wlit(',"rule":')
const C_seq = wlit(',"seq":')
const C_signedHash = wlit(',"signedHash":')
const C_stateVersion = wlit(',"stateVersion":')
const C_time = wlit(',"time":')
const C_validAfter = wlit(',"validAfter":')
const C_validBefore = wlit(',"validBefore":')
const C_verdict = wlit(',"verdict":')
const C_version = wlit(',"version":')
const C_wallet = wlit(',"wallet":')
const C_walletSeq = wlit(',"walletSeq":')
const O_action = wlit('{"action":')
const O_amount = wlit('{"amount":')
const O_hash = wlit('{"hash":')
const A_eip3009 = wlit('"eip3009"')
const A_type_entry_first = wlit('"type":"entry",')
const A_hash = wlit(',"hash":')
const A_mac = wlit(',"mac":')
const A_resourceUrl = wlit(',"resourceUrl":')
const A_type_entry = wlit(',"type":"entry"')
const A_walletPrev = wlit(',"walletPrev":')
const A_false = wlit('false')
const A_null = wlit('null')
const A_true = wlit('true')
const A_amount = wlit('{"amount":"')

/**
 * Returns the verdict, or undefined when the reference verifier must decide
 * (a failure anywhere, or a line parseAuditJsonl would refuse).
 */
export function fastVerifyAuditJsonl(b: Buffer, rest: Rest): VerifyAuditLogReturnType | undefined {
  let at = 0
  const read: Read = (target, to, max) => {
    const k = Math.min(max, b.length - at)
    if (k > 0) target.set(b.subarray(at, at + k), to)
    at += k
    return k
  }
  return fastVerifyChunks(lineChunks(read, Math.min(CHUNK_BYTES, b.length + 1)), rest)
}

/**
 * `bursar audit verify --file`: the same verdict as verifyAuditJsonl({ jsonl: readFileSync(file) }), read in chunks
 * of whole lines into one reused buffer (no buffer the size of the export, no page faults on one); the reference
 * reads the whole file only when the fast path must hand over. `chunkBytes` (tests): the first buffer's size.
 */
export function verifyAuditJsonlFile(params: Rest & { file: string; chunkBytes?: number }): VerifyAuditLogReturnType {
  const { file, chunkBytes, ...rest } = params
  const fd = openSync(file, 'r')
  let fast: VerifyAuditLogReturnType | undefined
  try {
    fast = fastVerifyChunks(lineChunks((target, to, max) => readSync(fd, target, to, max, null), chunkBytes ?? CHUNK_BYTES), rest)
  } finally {
    closeSync(fd)
  }
  if (fast !== undefined) return fast
  return verifyAuditLog({ ...parseAuditJsonl(readFileSync(file).toString('utf8')), ...rest })
}

/** Reads up to `max` bytes into target at `to`: the count, 0 at the end. */
type Read = (target: Buffer, to: number, max: number) => number
const CHUNK_BYTES = 4 << 20
/**
 * The area's first bytes: where an entry's hash preimage (tag, previous hash, canonical bytes) is assembled with
 * copyWithin from the line's bytes after it in the same buffer (no view or copy object per line). Longer entries
 * use a separate buffer.
 */
const SCRATCH = 1 << 16

/**
 * The export as consecutive chunks of whole lines (the last may lack its newline), each in the same reused area:
 * SCRATCH bytes of scratch, then the chunk; a chunk is yielded as area.subarray(0, SCRATCH + its length) and read only
 * until the next is asked for (the area grows when a line is longer than it).
 */
function* lineChunks(read: Read, size: number): Generator<Buffer> {
  let area = Buffer.allocUnsafe(SCRATCH + Math.max(1, size))
  let have = 0
  for (;;) {
    if (SCRATCH + have === area.length) {
      const bigger = Buffer.allocUnsafe(SCRATCH + (area.length - SCRATCH) * 2)
      area.copy(bigger, SCRATCH, SCRATCH, SCRATCH + have)
      area = bigger
    }
    const got = read(area, SCRATCH + have, area.length - SCRATCH - have)
    if (got === 0) {
      if (have > 0) yield area.subarray(0, SCRATCH + have)
      return
    }
    have += got
    const cut = area.lastIndexOf(0x0a, SCRATCH + have - 1) + 1 - SCRATCH
    if (cut <= 0) continue // no whole line yet: read on (grows the area when full)
    yield area.subarray(0, SCRATCH + cut)
    area.copyWithin(SCRATCH, SCRATCH + cut, SCRATCH + have)
    have -= cut
  }
}

/**
 * One wallet's thread head in the fast loop: its last walletSeq and the DigestList slot of its last entry's digest;
 * `first`, `firstPrev`, `firstSeq`: where its current run in this chain began (issue 15 step 4, WalletRun).
 */
type ThreadHead = { wallet: string; words: Int32Array; walletSeq: number; slot: number; first: number; firstPrev: string; firstSeq: number }
/** `wallet`: lower case; `words`: its 40 hex digits as 10 little-endian words. */
const threadHead = (wallet: string, walletSeq: number, slot: number, firstPrev: string, seq: number): ThreadHead => {
  const bytes = Buffer.from(wallet, 'latin1')
  const words = new Int32Array(10)
  for (let i = 0; i < 10; i++) words[i] = bytes.length === 42 ? bytes.readInt32LE(2 + 4 * i) : 0
  return { wallet, words, walletSeq, slot, first: walletSeq, firstPrev, firstSeq: seq }
}

/** True when the quoted string at p is "0x" + 64 lowercase hex digits (the schema's hash). */
function lowerHex64At(b: Buffer, p: number): boolean {
  if (b[p] !== Q || b[p + 1] !== 0x30 || b[p + 2] !== 0x78 || b[p + 67] !== Q) return false
  for (let i = p + 3; i < p + 67; i++) if (((HEX_CLASS[b[i] as number] as number) & 1) === 0) return false
  return true
}

/** True when the quoted string at p is GENESIS_HASH. */
function zeroHexAt(b: Buffer, p: number): boolean {
  if (b[p] !== Q || b[p + 1] !== 0x30 || b[p + 2] !== 0x78 || b[p + 67] !== Q) return false
  for (let i = p + 3; i < p + 67; i++) if (b[i] !== 0x30) return false
  return true
}

/** The fast loop over chunks of whole lines (a line never spans two chunks; only the last may lack its newline). */
function fastVerifyChunks(chunks: Iterable<Buffer>, rest: Rest): VerifyAuditLogReturnType | undefined {
  let key: KeyObject
  try {
    key = toEd25519PublicKey(rest.publicKey)
  } catch {
    return undefined // the reference throws, after parsing: let it decide which error comes first
  }
  const { sinceHead, expectedHead } = rest
  let hashes = new DigestList()
  let checkpoints: AuditCheckpoint[] = []
  let start = 0
  let anchorHash = GENESIS_HASH
  let first = true
  // Issue 15 step 4: the chain whose lines these are ('' = root), the chains finished before it, and the wallet runs.
  let chain = ''
  const done: { chain: string; hashes: DigestList; checkpoints: AuditCheckpoint[]; start: number; anchorHash: string }[] = []
  const runs: WalletRun[] = []
  /** A wallet's thread continued from outside the root chain's lines: fine only if the export has other chains. */
  let rootJumped = false
  /** Preimages longer than the area's scratch. */
  let big = Buffer.allocUnsafe(0)
  // Wallet threads (issue 15), as WalletThreads checks them. heads: by lower-case wallet; cache: the same heads by
  // three hex digits of the wallet (checked against the whole wallet), so most entries need no wallet string.
  let heads = new Map<string, ThreadHead>()
  const cache: (ThreadHead | undefined)[] = new Array(4096).fill(undefined)
  let threaded = false
  /** Closes a wallet's run (its last entry: t.walletSeq at slot t.slot). */
  const closeRun = (t: ThreadHead) => {
    runs.push({ wallet: t.wallet, chain, first: t.first, firstPrev: t.firstPrev, firstSeq: t.firstSeq, last: t.walletSeq, lastHash: hashes.get(t.slot - 1) as string, lastSeq: start + t.slot - 1 })
  }
  /** A wallet's entry that continues its thread from another chain (a jump, or its first entry here past walletSeq 1): a new run. */
  const jump = (t: ThreadHead | undefined, wallet: string, walletSeq: number, walletPrev: string, slot: number, seq: number): ThreadHead => {
    if (chain === '' && (t !== undefined || start === 0)) rootJumped = true // anchored: a first entry may continue a thread begun before
    if (t === undefined) {
      t = threadHead(wallet, walletSeq, slot, walletPrev, seq)
      heads.set(wallet, t)
      return t
    }
    closeRun(t)
    t.first = t.walletSeq = walletSeq
    t.firstPrev = walletPrev
    t.firstSeq = seq
    t.slot = slot
    return t
  }
  /** Ends the current chain's lines: its runs and its hashes are kept for the checks after the loop. */
  const endChain = () => {
    for (const t of heads.values()) closeRun(t)
    done.push({ chain, hashes, checkpoints, start, anchorHash })
  }

  for (const b of chunks) {
    TAG.copy(b, 0)
    const s = new Scanner(b)
    /** b.subarray(0, len) by len: one view per preimage length, not one per line. */
    const views = new Map<number, Buffer>()
    const n = b.length
    let pos = SCRATCH
    while (pos < n) {
      const lineStart = pos
      // Fast: a canonical entry line, ended by \n, \r\n or the end of the export (no search for the newline first).
      const close = s.entry(lineStart, n)
      let r = false
      if (close > 0) {
        const c = b[close]
        if (close === n || c === 0x0a) (r = true), (pos = close + 1)
        else if (c === 0x0d && (close + 1 === n || b[close + 1] === 0x0a)) (r = true), (pos = close + 2)
      }
      let lineEnd = close
      if (!r) {
        let end = b.indexOf(0x0a, pos)
        if (end < 0) end = n
        pos = end + 1
        lineEnd = end
        if (lineEnd > lineStart && b[lineEnd - 1] === 0x0d) lineEnd--
      }
      if (r) {
        const seq = s.seq
        if (seq === 0 && chain !== '') return undefined // a chain's seq 0 is chain_started, never a scanned line
        if (first) {
          first = false
          if (seq > 0 && sinceHead?.seq === seq - 1) {
            start = seq
            anchorHash = sinceHead.hash.toLowerCase()
            if (!/^0x[0-9a-f]{64}$/.test(anchorHash)) return undefined
            hashes.setAnchor(anchorHash)
          }
        }
        // The previous entry's digest (or the anchor's): slot hashes.length.
        if (seq !== start + hashes.length || !hashes.hexIs(b, s.dv, s.prevStart, hashes.length, false)) return undefined
        const len = PRE + s.canonicalLength()
        let digest: string
        if (len <= SCRATCH) {
          hashes.copySlot(hashes.length, s.dv, TAG.length)
          s.moveCanonical(PRE)
          let view = views.get(len)
          if (view === undefined) views.set(len, (view = b.subarray(0, len)))
          digest = sha256Latin1(view)
        } else {
          if (len > big.length) big = Buffer.allocUnsafe(len)
          TAG.copy(big, 0)
          hashes.copySlot(hashes.length, new DataView(big.buffer, big.byteOffset, big.length), TAG.length)
          s.copyCanonical(big, PRE)
          digest = sha256Latin1(big.subarray(0, len))
        }
        hashes.push(digest) // slot hashes.length (after the push); dropped with the list if a check below fails
        const slot = hashes.length
        // The recorded hash, compared as parseAuditJsonl + verifyAuditLog do: claimed.toLowerCase() === hash.
        if (s.hashStart >= 0 && (s.hashEnd - s.hashStart !== 66 || !hashes.hexIs(b, s.dv, s.hashStart - 1, slot, true))) return undefined
        // The thread (WalletThreads.next): the scanner read walletSeq ≥ 1 only together with walletPrev.
        if (s.walletSeq < 0) {
          if (threaded && s.walletStart >= 0) return undefined
        } else {
          const w = s.walletStart
          if (w < 0) return undefined
          threaded = true
          const at = (HEX_VALUE[b[w + 3] as number] as number) | ((HEX_VALUE[b[w + 4] as number] as number) << 4) | ((HEX_VALUE[b[w + 5] as number] as number) << 8)
          let t = cache[at]
          if (t === undefined || !s.walletIs(w, t.words)) {
            t = heads.get(b.toString('latin1', w + 1, w + 43).toLowerCase())
            if (t !== undefined) cache[at] = t
          }
          const walletSeq = s.walletSeq
          if (t === undefined) {
            if (walletSeq === 1) {
              if (!zeroHexAt(b, s.walletPrevStart)) return undefined
              t = threadHead(b.toString('latin1', w + 1, w + 43).toLowerCase(), walletSeq, slot, GENESIS_HASH, seq)
              heads.set(t.wallet, t)
            } else {
              if (!lowerHex64At(b, s.walletPrevStart)) return undefined
              t = jump(undefined, b.toString('latin1', w + 1, w + 43).toLowerCase(), walletSeq, b.toString('latin1', s.walletPrevStart + 1, s.walletPrevStart + 67), slot, seq)
            }
            cache[at] = t
          } else if (walletSeq === t.walletSeq + 1) {
            if (!hashes.hexIs(b, s.dv, s.walletPrevStart, t.slot, false)) return undefined
            t.walletSeq = walletSeq
            t.slot = slot
          } else {
            if (walletSeq <= t.walletSeq || !lowerHex64At(b, s.walletPrevStart)) return undefined
            jump(t, t.wallet, walletSeq, b.toString('latin1', s.walletPrevStart + 1, s.walletPrevStart + 67), slot, seq)
          }
        }
        continue
      }

      // Reference steps for this line (parseAuditJsonl, then verifyAuditLog's loop body).
      const line = b.toString('utf8', lineStart, lineEnd) // one trailing \r already dropped, as parseAuditJsonl does
      if (line.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        return undefined
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
      const { type, ...fields } = value as Record<string, unknown>
      if (type === 'checkpoint') {
        checkpoints.push(fields as AuditCheckpoint)
        continue
      }
      if (type === 'chain') {
        // Issue 15 step 4: the next chain's lines (a new chain id; anything else — "" back to the root, a chain twice, a bad header — is the reference's).
        const { chain: id, ...other } = fields
        if (typeof id !== 'string' || !CHAIN_ID_REGEX.test(id) || Object.keys(other).length > 0 || id === chain || done.some((d) => d.chain === id)) return undefined
        endChain()
        chain = id
        hashes = new DigestList()
        checkpoints = []
        start = 0
        anchorHash = GENESIS_HASH
        first = false
        heads = new Map()
        cache.fill(undefined)
        threaded = true
        continue
      }
      if (type !== 'entry') return undefined
      const { hash: claimed, mac: _mac, ...e } = fields
      if (claimed !== undefined && typeof claimed !== 'string') return undefined
      if (first) {
        first = false
        const firstSeq = (e as { seq?: unknown }).seq
        if (typeof firstSeq === 'number' && firstSeq > 0 && sinceHead?.seq === firstSeq - 1) {
          start = firstSeq
          anchorHash = sinceHead.hash.toLowerCase()
        }
      }
      const prevHex = hashes.length > 0 ? hashes.get(hashes.length - 1) : anchorHash
      if (!AuditEntrySchema.safeParse(e).success) return undefined
      const entry = e as AuditEntry
      if (entry.seq !== start + hashes.length || entry.prevHash !== prevHex) return undefined
      let hash: string
      try {
        hash = hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry))
      } catch {
        return undefined
      }
      if (claimed !== undefined && claimed.toLowerCase() !== hash) return undefined
      if (chainStartBreak(entry, chain) !== undefined) return undefined
      if ((entry.walletSeq === undefined) !== (entry.walletPrev === undefined)) return undefined
      const wallet = entry.wallet === null ? null : entry.wallet.toLowerCase()
      const walletSeq = entry.walletSeq
      if (walletSeq === undefined) {
        if (threaded && wallet !== null) return undefined
      } else {
        if (wallet === null) return undefined
        threaded = true
        const t = heads.get(wallet)
        const walletPrev = entry.walletPrev as string
        if (t === undefined) {
          if (walletSeq === 1) {
            if (walletPrev !== GENESIS_HASH) return undefined
            heads.set(wallet, threadHead(wallet, walletSeq, hashes.length + 1, walletPrev, entry.seq))
          } else jump(undefined, wallet, walletSeq, walletPrev, hashes.length + 1, entry.seq)
        } else if (walletSeq === t.walletSeq + 1) {
          if (walletPrev !== hashes.get(t.slot - 1)) return undefined
          t.walletSeq = walletSeq
          t.slot = hashes.length + 1
        } else {
          if (walletSeq <= t.walletSeq) return undefined
          jump(t, wallet, walletSeq, walletPrev, hashes.length + 1, entry.seq)
        }
      }
      hashes.push(Buffer.from(hash.slice(2), 'hex').toString('latin1'))
    }
  }
  if (done.length === 0) {
    // The root chain alone (every log before issue 15 step 4). A thread continued from elsewhere breaks it: the reference says where.
    if (rootJumped) return undefined
    const head = hashes.length > 0 ? (hashes.get(hashes.length - 1) as string) : anchorHash
    return finishAuditVerify({ hashes, start, anchorHash, prev: head, checkpoints, key, sinceHead, expectedHead, failure: undefined })
  }
  // Several chains: each one's checkpoints and heads, then the wallet threads across them; any failure is the reference's to report.
  endChain()
  const verdicts: AuditChainVerdict[] = []
  let rootVerdict: Extract<VerifyAuditLogReturnType, { ok: true }> | undefined
  for (const d of done) {
    const prev = d.hashes.length > 0 ? (d.hashes.get(d.hashes.length - 1) as string) : d.anchorHash
    const root = d.chain === ''
    const v = finishAuditVerify({ hashes: d.hashes, start: d.start, anchorHash: d.anchorHash, prev, checkpoints: d.checkpoints, key, sinceHead: root ? sinceHead : undefined, expectedHead: root ? expectedHead : undefined, failure: undefined, chain: d.chain })
    if (!v.ok) return undefined
    if (root) rootVerdict = v
    else verdicts.push({ chain: d.chain, head: v.head, signedHead: v.signedHead, count: v.count })
  }
  if (rootVerdict === undefined) return undefined
  const signed = new Map([['', rootVerdict.signedHead?.seq ?? -1], ...verdicts.map((v) => [v.chain, v.signedHead?.seq ?? -1] as const)])
  if (joinWalletRuns(runs, (done[0] as { start: number }).start > 0, signed) !== undefined) return undefined
  return { ...rootVerdict, chains: verdicts }
}

/** True when key [c, d) sorts strictly after key [a, b) (bytes = UTF-16 code units for ASCII). */
function ascending(buf: Buffer, a: number, b: number, c: number, d: number): boolean {
  for (; a < b && c < d; a++, c++) {
    const x = buf[a] as number
    const y = buf[c] as number
    if (x !== y) return y > x
  }
  return a === b && c < d
}

/**
 * The verified entry hashes, packed 32 bytes each; hex strings only when asked for (checkpoints, heads). Slot 0 holds
 * the anchor (the hash before the first entry: 32 zero bytes at genesis), entry i's digest is slot i + 1, so slot
 * `length` is always the previous hash of the next entry.
 */
class DigestList implements HashList {
  length = 0
  private buf = Buffer.alloc(32 * 1024)
  private dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length)

  /** The anchor of a partial log (0x + 64 lowercase hex digits). */
  setAnchor(hash: string): void {
    this.buf.write(hash.slice(2), 0, 32, 'hex')
  }

  /** Appends a digest given as its 32 bytes in latin1. */
  push(digest: string): void {
    if ((this.length + 2) * 32 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2)
      this.buf.copy(bigger, 0, 0, (this.length + 1) * 32)
      this.buf = bigger
      this.dv = new DataView(bigger.buffer, bigger.byteOffset, bigger.length)
    }
    const buf = this.buf
    const at = ++this.length * 32
    for (let i = 0; i < 32; i++) buf[at + i] = digest.charCodeAt(i)
  }

  /** Copies slot i's 32 bytes to `at` in target's bytes. */
  copySlot(i: number, target: DataView, at: number): void {
    const dv = this.dv
    for (let from = i * 32, end = from + 32; from < end; from += 4, at += 4) target.setInt32(at, dv.getInt32(from, true), true)
  }

  /**
   * True when the quoted string at p in b is "0x" + the lowercase hex of slot i; with `anyCase`, when its
   * toLowerCase() is (the bytes were scanned: a string of printable ASCII or well-formed UTF-8, whose non-ASCII
   * characters never lower-case to a hex digit or x).
   */
  hexIs(b: Buffer, bv: DataView, p: number, i: number, anyCase: boolean): boolean {
    if (p < 0 || p + 68 > b.length || b[p] !== Q || b[p + 1] !== 0x30 || b[p + 67] !== Q) return false
    const x = b[p + 2] as number
    if (x !== 0x78 && !(anyCase && x === 0x58)) return false
    const buf = this.buf
    p += 3
    const end = i * 32 + 32
    // Four digits a word (the text is lower case in every export this tool writes); else, with anyCase, byte by byte.
    let q = p
    let at = i * 32
    for (; at < end; at += 2, q += 4) if (bv.getInt32(q, true) !== (HEX_LE16[buf[at] as number] as number) + (HEX_LE16[buf[at + 1] as number] as number) * 0x10000) break
    if (at === end) return true
    if (!anyCase) return false
    for (let at = i * 32; at < end; at++, p += 2) {
      let hi = b[p] as number
      let lo = b[p + 1] as number
      if (hi >= 0x41 && hi <= 0x5a) hi += 0x20
      if (lo >= 0x41 && lo <= 0x5a) lo += 0x20
      if (((hi << 8) | lo) !== HEX_PAIR[buf[at] as number]) return false
    }
    return true
  }

  get(i: number): string | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined
    return `0x${this.buf.toString('hex', (i + 1) * 32, (i + 2) * 32)}`
  }

  indexOf(hash: string): number {
    if (!/^0x[0-9a-f]{64}$/.test(hash)) return -1
    const wanted = Buffer.from(hash.slice(2), 'hex')
    const end = (this.length + 1) * 32
    for (let at = this.buf.indexOf(wanted, 32); at >= 0 && at + 32 <= end; at = this.buf.indexOf(wanted, at + 1))
      if (at % 32 === 0) return at / 32 - 1
    return -1
  }
}

/**
 * Strict scanner of one canonical entry line. Accepts only what canonicalJson
 * (= JSON.stringify with sorted keys) prints: no whitespace, printable ASCII
 * strings (well-formed UTF-8) whose only escapes are \" \\ \b \f \n \r \t, integers of at most 15
 * digits (16 with a MAX_SAFE_INTEGER bound for uint fields), keys in strictly
 * increasing order. Returns NO (-1) for anything else.
 */
/** Exported for tests and the bench: the scanner alone. */
export class Scanner {
  seq = 0
  hashStart = -1
  hashEnd = -1
  prevStart = 0
  /** The wallet's opening quote (-1: null), walletPrev's opening quote, walletSeq (-1: the entry has no thread). */
  walletStart = -1
  walletPrevStart = -1
  walletSeq = -1
  /** Byte ranges to drop from [lineStart, lineEnd) to get canonicalJson(entry): the hash, mac and type members. */
  private cuts: number[] = []
  private lineStart = 0
  private lineEnd = 0
  private num = 0
  private readonly lastEnum = new Map<Set<string>, Uint8Array>()

  /** Unaligned little-endian word loads from the buffer. */
  readonly dv: DataView

  constructor(private readonly b: Buffer) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.length)
  }

  /** Scans an entry line from p (bounded by `end`, the end of the export): the position after its closing brace, or NO. */
  entry(p: number, end: number): number {
    const b = this.b
    this.lineStart = p
    this.lineEnd = end
    this.cuts.length = 0
    this.hashStart = -1
    if (b[p] !== 0x7b) return NO
    // The host's export writes `{"type":"entry",…entry}`: the type member first, the entry's own members sorted.
    const typeFirst = this.at(p + 1, A_type_entry_first)
    if (typeFirst) {
      this.cuts.push(p + 1, p + 16)
      p += 15
    }
    // {"action":
    p = this.lit(p, O_action)
    if (p < 0) return NO
    p = this.action(p)
    p = this.lit(p, C_agentId)
    p = this.strOrNull(p, 128)
    p = this.lit(p, C_code)
    p = this.strOrNull(p, 128)
    p = this.lit(p, C_event)
    p = this.enumStr(p, EVENTS)
    if (p < 0) return NO
    if (this.at(p, A_hash)) {
      // Only its shape (a quote, 66 bytes, a quote): the caller compares the 66 bytes with "0x" + the digest's hex
      // (any case), which no other string passes. Any other recorded hash: the reference steps for this line.
      const cut = p
      const v = p + 8
      if (b[v] !== Q || b[v + 67] !== Q) return NO
      p = v + 68
      this.hashStart = v + 1
      this.hashEnd = p - 1
      this.cuts.push(cut, p)
    }
    p = this.lit(p, C_ledger)
    if (p < 0 || this.b[p] !== 0x5b) return NO
    p = this.value(p, 0)
    if (p < 0) return NO
    if (this.at(p, A_mac)) {
      const cut = p
      p = this.value(p + 7, 0)
      if (p < 0) return NO
      this.cuts.push(cut, p)
    }
    p = this.lit(p, C_policy)
    p = this.policy(p)
    p = this.lit(p, C_prevHash)
    if (p < 0) return NO
    this.prevStart = p
    p = p >= 0 && this.b[p + 67] === Q ? p + 68 : NO // the digits: hexIs against the previous hash, by the caller
    p = this.lit(p, C_reason)
    p = this.strOrNull(p, 280)
    p = this.lit(p, C_requestId)
    p = this.strOrNull(p, 128)
    if (p < 0) return NO
    if (this.at(p, A_resourceUrl)) p = this.str(p + 15, 2048)
    p = this.lit(p, C_rule)
    p = this.strOrNull(p, 128)
    p = this.lit(p, C_seq)
    p = this.uint(p)
    if (p < 0) return NO
    this.seq = this.num
    p = this.lit(p, C_signedHash)
    p = this.nullOr(p) ?? this.hex(p, 64, true)
    p = this.lit(p, C_stateVersion)
    p = this.uint(p)
    p = this.lit(p, C_time)
    p = this.uint(p)
    if (!typeFirst) {
      if (!this.at(p, A_type_entry)) return NO
      this.cuts.push(p, p + 15)
      p += 15
    }
    p = this.lit(p, C_verdict)
    p = this.enumStr(p, VERDICTS)
    p = this.lit(p, C_wallet)
    this.walletStart = p >= 0 && b[p] === Q ? p : -1
    p = this.nullOr(p) ?? this.hex(p, 40, true)
    this.walletSeq = -1
    if (this.at(p, A_walletPrev)) {
      // Its shape only, as prevHash: the caller compares it with a digest's hex or GENESIS_HASH, or checks its digits
      // (lowerHex64At) where the thread head is not in the log.
      const v = p + 14
      this.walletPrevStart = v
      p = b[v] === Q && b[v + 67] === Q ? this.lit(v + 68, C_walletSeq) : NO
      p = this.uint(p)
      if (p < 0 || this.num === 0) return NO
      this.walletSeq = this.num
    }
    if (p < 0 || b[p] !== 0x7d) return NO
    this.lineEnd = p + 1
    return p + 1
  }

  canonicalLength(): number {
    let len = this.lineEnd - this.lineStart
    for (let i = 0; i < this.cuts.length; i += 2) len -= (this.cuts[i + 1] as number) - (this.cuts[i] as number)
    return len
  }

  /** copyCanonical into this scanner's own buffer at `at` (before the line: the areas never overlap). */
  moveCanonical(at: number): void {
    const b = this.b
    const cuts = this.cuts
    let from = this.lineStart
    for (let i = 0; i < cuts.length; i += 2) {
      const cut = cuts[i] as number
      b.copyWithin(at, from, cut)
      at += cut - from
      from = cuts[i + 1] as number
    }
    b.copyWithin(at, from, this.lineEnd)
  }

  /** True when the wallet string at p (quote, "0x", 40 hex digits: scanned) lower-cased is `wallet` (its bytes). */
  walletIs(p: number, words: Int32Array): boolean {
    const dv = this.dv
    // Lower-casing a scanned hex digit is | 0x20.
    for (let i = 0; i < 10; i++) if ((dv.getInt32(p + 3 + 4 * i, true) | 0x20202020) !== words[i]) return false
    return true
  }

  copyCanonical(target: Buffer, at: number): void {
    let from = this.lineStart
    for (let i = 0; i < this.cuts.length; i += 2) {
      const cut = this.cuts[i] as number
      at += this.b.copy(target, at, from, cut)
      from = this.cuts[i + 1] as number
    }
    this.b.copy(target, at, from, this.lineEnd)
  }

  // --- tokens; every method takes and returns a position, NO (-1) propagates ---

  /** True when the literal `l` is at p (within the line's bound). */
  private at(p: number, l: Lit): boolean {
    const n = l.n
    if (p < 0 || p + n > this.lineEnd) return false
    const dv = this.dv
    const w = l.w
    const last = w.length - 1
    for (let i = 0; i < last; i++) if (dv.getInt32(p + 4 * i, true) !== w[i]) return false
    return dv.getInt32(p + n - 4, true) === w[last]
  }

  /** The literal `l` at p: the position after it, or NO. */
  private lit(p: number, l: Lit): number {
    return this.at(p, l) ? p + l.n : NO
  }

  private nullOr(p: number): number | undefined {
    if (p < 0) return NO
    return this.at(p, A_null) ? p + 4 : undefined
  }

  private strOrNull(p: number, max: number): number {
    return this.nullOr(p) ?? this.str(p, max)
  }

  /**
   * A string in canonical form; `max` bounds its raw length (the decoded
   * UTF-16 length is never larger, so the schema's max holds).
   */
  private str(p: number, max: number): number {
    const b = this.b
    if (p < 0 || b[p] !== Q) return NO
    const from = p + 1
    const end = this.lineEnd
    // Bytes that add no UTF-16 unit of the decoded string: an escape's backslash, a sequence's extra bytes.
    let shrink = 0
    const dv = this.dv
    for (p = from; p < end; p++) {
      // Four bytes a word while none is special (below 0x20, above 0x7e, " or \): any such byte sets a high bit.
      while (p + 4 <= end && (strSpecial(dv.getInt32(p, true)) & 0x80808080) === 0) p += 4
      if (p >= end) return NO
      const c = b[p] as number
      const k = STR_CLASS[c] as number
      if (k === 0) continue
      if (k === 1) return p - from - shrink <= max ? p + 1 : NO
      if (k === 2) {
        // The escapes JSON.stringify prints for these characters; \/ and \u are never canonical here.
        if (ESCAPED[b[++p] as number] !== 1) return NO
        shrink += 1
        continue
      }
      // Well-formed UTF-8 (Unicode table 3-7): decodes and re-encodes to the same bytes, and JSON.stringify leaves
      // it unescaped (it escapes only lone surrogates, which UTF-8 cannot carry). Anything else: not here.
      const c1 = b[p + 1] as number
      if (c >= 0xc2 && c <= 0xdf) {
        if (c1 < 0x80 || c1 > 0xbf) return NO
        p += 1
        shrink += 1
        continue
      }
      const c2 = b[p + 2] as number
      if (c >= 0xe0 && c <= 0xef) {
        const lo = c === 0xe0 ? 0xa0 : 0x80
        const hi = c === 0xed ? 0x9f : 0xbf
        if (c1 < lo || c1 > hi || c2 < 0x80 || c2 > 0xbf) return NO
        p += 2
        shrink += 2
        continue
      }
      const c3 = b[p + 3] as number
      if (c >= 0xf0 && c <= 0xf4) {
        const lo = c === 0xf0 ? 0x90 : 0x80
        const hi = c === 0xf4 ? 0x8f : 0xbf
        if (c1 < lo || c1 > hi || c2 < 0x80 || c2 > 0xbf || c3 < 0x80 || c3 > 0xbf) return NO
        p += 3
        shrink += 2 // four bytes, two UTF-16 units: at least the schema's count (zod 4 counts code points), so `max` holds
        continue
      }
      return NO // a control character, DEL, a stray continuation byte or an invalid lead
    }
    return NO
  }

  /** A string without escapes that is one of `allowed` (the last match is compared first, without a string). */
  private enumStr(p: number, allowed: Set<string>): number {
    const b = this.b
    if (p < 0 || b[p] !== Q) return NO
    let close = p + 1
    while (close < this.lineEnd && close < p + 40 && b[close] !== Q) close++
    if (b[close] !== Q) return NO
    const last = this.lastEnum.get(allowed)
    if (last !== undefined && last.length === close - p - 1) {
      let i = 0
      while (i < last.length && b[p + 1 + i] === last[i]) i++
      if (i === last.length) return close + 1
    }
    const value = b.toString('latin1', p + 1, close)
    if (!allowed.has(value)) return NO
    this.lastEnum.set(allowed, lit(value))
    return close + 1
  }

  /** `"0x` + `digits` hex digits + `"`; lowercase only unless anyCase. */
  private hex(p: number, digits: number, anyCase: boolean): number {
    const b = this.b
    if (p < 0 || p + digits + 4 > this.lineEnd || b[p] !== Q || b[p + 1] !== 0x30 || b[p + 2] !== 0x78) return NO
    p += 3
    const end = p + digits // digits is a multiple of 4 (40 or 64)
    const dv = this.dv
    // Four digits a word: every byte < 0x80, then per byte (high bit of x + 0x80 − lo) & ~(x + 0x80 − hi − 1) says
    // lo ≤ byte ≤ hi (no carry between bytes below 0x80): 0-9, a-f, and A-F when anyCase.
    for (; p < end; p += 4) {
      const x = dv.getInt32(p, true)
      if ((x & 0x80808080) !== 0) return NO
      let ok = ((x + 0x50505050) & ~(x + 0x46464646)) | ((x + 0x1f1f1f1f) & ~(x + 0x19191919))
      if (anyCase) ok |= (x + 0x3f3f3f3f) & ~(x + 0x39393939)
      if ((ok & 0x80808080) !== (0x80808080 | 0)) return NO
    }
    return b[p] === Q ? p + 1 : NO
  }


  /** A non-negative integer ≤ MAX_SAFE_INTEGER in canonical form; its value in this.num. */
  private uint(p: number): number {
    const b = this.b
    if (p < 0) return NO
    const from = p
    let v = 0
    for (; p < this.lineEnd; p++) {
      const c = b[p] as number
      if (c < 0x30 || c > 0x39) break
      v = v * 10 + (c - 0x30)
    }
    const digits = p - from
    if (digits === 0 || digits > 16 || (digits > 1 && b[from] === 0x30) || v > MAX_SAFE) return NO
    const c = b[p]
    if (c === 0x2e || c === 0x65 || c === 0x45) return NO
    this.num = v
    return p
  }

  /** `"0x…"` string of exactly `digits` hex digits, any case, as the schema's regexes require. */
  private policy(p: number): number {
    const v = this.nullOr(p)
    if (v !== undefined) return v
    if (p < 0 || this.b[p] !== 0x7b) return NO
    p = this.lit(p, O_hash)
    p = this.hex(p, 64, true)
    p = this.lit(p, C_version)
    p = this.uint(p)
    return p >= 0 && this.b[p] === 0x7d ? p + 1 : NO
  }

  private action(p: number): number {
    const v = this.nullOr(p)
    if (v !== undefined) return v
    if (this.at(p, A_amount)) {
      const q = this.eip3009(p)
      if (q >= 0) return q
    }
    // Any other kind: canonical form by the scanner, the schema by zod.
    const end = this.value(p, 0)
    if (end < 0 || this.b[p] !== 0x7b) return NO
    let action: unknown
    try {
      action = JSON.parse(this.b.toString('utf8', p, end))
    } catch {
      return NO
    }
    return DecodedActionSchema.safeParse(action).success ? end : NO
  }

  /** The x402 exact action, field by field as DecodedActionSchema's eip3009 member requires. */
  private eip3009(p: number): number {
    p = this.lit(p, O_amount)
    p = this.decimalString(p)
    p = this.lit(p, C_asset)
    p = this.hex(p, 40, true)
    p = this.lit(p, C_chainId)
    p = this.uint(p)
    if (p < 0 || this.num === 0) return NO
    p = this.lit(p, C_from)
    p = this.hex(p, 40, true)
    p = this.lit(p, C_kind)
    if (!this.at(p, A_eip3009)) return NO
    p = this.lit(p + 9, C_nonce)
    p = this.hex(p, 64, true)
    p = this.lit(p, C_payTo)
    p = this.hex(p, 40, true)
    p = this.lit(p, C_primaryType)
    p = this.enumStr(p, PRIMARY_3009)
    p = this.lit(p, C_validAfter)
    p = this.uint(p)
    p = this.lit(p, C_validBefore)
    p = this.uint(p)
    return p >= 0 && this.b[p] === 0x7d ? p + 1 : NO
  }

  /** `"0"` or `"[1-9][0-9]{0,77}"` (the schema's uint string). */
  private decimalString(p: number): number {
    const b = this.b
    if (p < 0 || b[p] !== Q) return NO
    const from = ++p
    while ((b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++
    const digits = p - from
    if (digits === 0 || digits > 78 || (digits > 1 && b[from] === 0x30) || b[p] !== Q) return NO
    return p + 1
  }

  /** Any JSON value in canonical form (ledger events, mac, other actions). */
  private value(p: number, depth: number): number {
    const b = this.b
    if (p < 0 || depth > MAX_DEPTH) return NO
    const c = b[p]
    if (c === Q) return this.str(p, Infinity)
    if (c === 0x7b) {
      p++
      if (b[p] === 0x7d) return p + 1
      let prevFrom = -1
      let prevTo = -1
      for (;;) {
        const from = p + 1
        const to = this.str(p, Infinity) - 1
        if (to < 0 || b[to + 1] !== COLON) return NO
        // Keys: no escapes, strictly increasing (canonicalJson sorts by UTF-16 code units = bytes for ASCII).
        for (let i = from; i < to; i++) if (b[i] === BS || (b[i] as number) >= 0x80) return NO // ASCII keys: byte order = sort order
        if (to - from === 9 && b.toString('latin1', from, to) === '__proto__') return NO
        if (prevFrom >= 0 && !ascending(b, prevFrom, prevTo, from, to)) return NO
        prevFrom = from
        prevTo = to
        p = this.value(to + 2, depth + 1)
        if (p < 0) return NO
        if (b[p] === 0x7d) return p + 1
        if (b[p] !== COMMA) return NO
        p++
      }
    }
    if (c === 0x5b) {
      p++
      if (b[p] === 0x5d) return p + 1
      for (;;) {
        p = this.value(p, depth + 1)
        if (p < 0) return NO
        if (b[p] === 0x5d) return p + 1
        if (b[p] !== COMMA) return NO
        p++
      }
    }
    if (c === 0x6e) return this.at(p, A_null) ? p + 4 : NO
    if (c === 0x74) return this.at(p, A_true) ? p + 4 : NO
    if (c === 0x66) return this.at(p, A_false) ? p + 5 : NO
    // Integers of at most 15 digits print back as themselves; no -0, fractions or exponents.
    const from = c === 0x2d ? p + 1 : p
    let q = from
    while (q < this.lineEnd && (b[q] as number) >= 0x30 && (b[q] as number) <= 0x39) q++
    const digits = q - from
    if (digits === 0 || digits > 15 || (digits > 1 && b[from] === 0x30)) return NO
    if (c === 0x2d && digits === 1 && b[from] === 0x30) return NO
    const d = b[q]
    if (d === 0x2e || d === 0x65 || d === 0x45) return NO
    return q
  }
}
