import { type AuditCheckpoint, type AuditEntry, AuditEntrySchema, CHAIN_ID_REGEX } from './auditEntry.js'
import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { hashAuditEntry } from './hashAuditEntry.js'
import { type Ed25519PublicKeyInput, toEd25519PublicKey } from './toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'
import { chainStartBreak } from './verifyAuditLog.js'
import { joinWalletRuns, type WalletRun, type WalletRunFailure, WalletThreads } from './walletThreads.js'

export type VerifyAuditSliceParameters = {
  /** An owner's entries (other wallets' seqs left out), ascending seq within each chain. */
  entries: readonly AuditEntry[]
  /** The hash the host recorded beside each entry (same index). */
  hashes: readonly (string | undefined)[]
  /** Checkpoints the host served at these entries' seqs (a non-root chain's names it: `chain`, signed). */
  checkpoints: readonly AuditCheckpoint[]
  publicKey: Ed25519PublicKeyInput
  /**
   * chains41: each entry's chain as the host labelled it (same index; '' or absent: the root chain; see
   * servedAuditEntry.ts). The host's word: each chain's entries are checked by that chain's links and checkpoints
   * only, so an entry labelled with a chain it is not in breaks them (or, unsigned, is reported unvouched).
   */
  chains?: readonly (string | undefined)[] | undefined
  /**
   * chains41: the slice holds every entry of its wallets from where it starts (every page from the start, as the
   * console reads them): each wallet's stays in the chains must join into one thread (joinWalletRuns). Otherwise (one
   * page, a seq window of each chain) a wallet's stay in one chain may end on the page while its next, in another
   * chain, begins later in that chain's window: such gaps between chains are allowed; in one chain a wallet's thread
   * jumps only from its wallet_dropped to its wallet_loaded (it left and came back).
   */
  complete?: boolean | undefined
}
export type VerifyAuditSliceReturnType =
  | {
      ok: true
      count: number
      linked: number
      signed: number
      /**
       * Seqs the enclave vouches for by no signature: neither under a signed checkpoint at their seq nor linked
       * (prevHash) to a successor that is. The host could have rewritten these (and their recorded hashes) or
       * cut entries after them; a reader must not call them verified.
       */
      unvouched: number[]
      /** chains41: the chain of each unvouched seq (same index; '' = the root). */
      unvouchedChains: string[]
    }
  | { ok: false; code: AuditCode; seq: number; message: string; chain?: string }

type Item = { i: number; e: AuditEntry; hash: string; chain: string }
type Failure = { code: AuditCode; seq: number; message: string; chain?: string }

const of = (chain: string) => (chain === '' ? '' : ` of chain ${chain}`)
const chainName = (chain: string) => (chain === '' ? 'the root chain' : `chain ${chain}`)

/**
 * Verifies an owner-scoped slice of the audit log (the owner's wallets only, so each chain has gaps), chain by chain
 * (chains41: a page may mix the chains of a cluster, each with its own seqs from 0; before, a mixed page read as one
 * chain: audit_out_of_order where two chains share a seq, links checked across chains): in each chain, each entry
 * hashes to the hash recorded beside it, seqs ascend, an entry right after another links to it by prevHash, only a
 * non-root chain's seq 0 is chain_started naming that chain; every checkpoint is signed by the enclave key over its
 * chain and, at a served seq of that chain, names that entry's hash (the entry a checkpoint or a prevHash names
 * served under another chain: audit_chain_mismatch); each wallet's thread continues across the chains. `linked` and `signed` say
 * how much of the slice the chain and the enclave vouch for; the full log (operator token) verifies with
 * verifyAuditLog. Returns the lowest broken seq as a value.
 */
export function verifyAuditSlice(params: VerifyAuditSliceParameters): VerifyAuditSliceReturnType {
  const key = toEd25519PublicKey(params.publicKey)
  const groups = new Map<string, Item[]>()
  const atSeq = new Map<number, Item[]>() // every chain's entries at a seq (a checkpoint's entry served elsewhere)
  for (let i = 0; i < params.entries.length; i++) {
    const e = params.entries[i] as AuditEntry
    if (!AuditEntrySchema.safeParse(e).success) return fail(AUDIT_CODES.malformed, (e as { seq?: number }).seq ?? -1, `entry at position ${i} is malformed`)
    const chain = params.chains?.[i] ?? ''
    if (chain !== '' && (typeof chain !== 'string' || !CHAIN_ID_REGEX.test(chain))) return fail(AUDIT_CODES.malformed, e.seq, `entry at position ${i}: its chain label is not a chain id (32 lowercase hex)`)
    const item = { i, e, hash: hashAuditEntry(e), chain }
    const g = groups.get(chain)
    if (g === undefined) groups.set(chain, [item])
    else g.push(item)
    const s = atSeq.get(e.seq)
    if (s === undefined) atSeq.set(e.seq, [item])
    else s.push(item)
  }
  let failure: Failure | undefined
  const failAt = (code: AuditCode, seq: number, chain: string, message: string) => {
    if (failure === undefined || seq < failure.seq) failure = { code, seq, message, ...(chain === '' ? {} : { chain }) }
  }
  let linked = 0
  const bySeq = new Map<string, Map<number, string>>() // chain → seq → entry hash
  const predecessor = new Map<Item, Item>() // an entry → the one its prevHash names (checked), in its chain
  // Issue 15 (rt30a): each wallet's thread must continue inside the slice (it may begin mid-thread: a page after a
  // cursor); chains41: a wallet's stays in several chains are runs joined across them (`complete`, joinRuns).
  const runs: WalletRun[] = []
  for (const [chain, items] of groups) {
    const seqs = new Map<number, string>()
    bySeq.set(chain, seqs)
    const threads = new WalletThreads(true, { chain, out: runs })
    let prev: Item | null = null
    for (const item of items) {
      const { e, hash } = item
      const where = `seq ${e.seq}${of(chain)}`
      if (prev && e.seq <= prev.e.seq) {
        failAt(AUDIT_CODES.outOfOrder, e.seq, chain, `${where} comes after seq ${prev.e.seq}`)
        break
      }
      const recorded = params.hashes[item.i]
      if (recorded !== undefined && recorded.toLowerCase() !== hash) {
        failAt(AUDIT_CODES.entryModified, e.seq, chain, `${where}: content hashes to ${hash}, recorded hash is ${recorded}`)
        break
      }
      const wrong = chainStartBreak(e, chain)
      if (wrong !== undefined) {
        failAt(wrong.code, e.seq, chain, `${where}: ${wrong.message}`)
        break
      }
      if (prev && prev.e.seq === e.seq - 1) {
        if (e.prevHash !== prev.hash) {
          failAt(AUDIT_CODES.prevHashMismatch, e.seq, chain, `${where}: prevHash is not the hash of seq ${prev.e.seq}`)
          break
        }
        linked++
        predecessor.set(item, prev)
      } else {
        // chains41: the entry this one's prevHash names is served under another chain's label (or none): one of the two is.
        const named = atSeq.get(e.seq - 1)?.find((x) => x.chain !== chain && x.hash === e.prevHash)
        if (named) {
          failAt(AUDIT_CODES.chainMismatch, e.seq, chain, `${where} links (prevHash) to seq ${named.e.seq} served as ${chainName(named.chain)}'s: one of the two is served under another chain than its own`)
          break
        }
      }
      const broken = threads.next(e, hash, e.seq)
      if (broken !== undefined) {
        failAt(AUDIT_CODES.threadBroken, e.seq, chain, `${where}: ${broken}`)
        break
      }
      seqs.set(e.seq, hash)
      prev = item
    }
  }
  if (failure !== undefined) return { ok: false, ...failure }
  let signed = 0
  const signedAt = new Set<string>() // `${chain}:${seq}`
  const signedThrough = new Map<string, number>() // chain → highest signed seq (joinWalletRuns: fork or broken)
  for (const cp of [...params.checkpoints].sort((a, b) => a.seq - b.seq)) {
    if (!verifyAuditCheckpoint(cp, key)) return fail(AUDIT_CODES.checkpointInvalid, cp.seq, `checkpoint for seq ${cp.seq}: signature does not verify under the enclave key`)
    const chain = cp.chain ?? ''
    const h = bySeq.get(chain)?.get(cp.seq)
    if (h === undefined) {
      // chains41: the entry this checkpoint signs, served under another chain's label (or none): the host relabelled it.
      const moved = atSeq.get(cp.seq)?.find((x) => x.hash === cp.head)
      if (moved) return { ok: false, code: AUDIT_CODES.chainMismatch, seq: cp.seq, ...(moved.chain === '' ? {} : { chain: moved.chain }), message: `seq ${cp.seq}: the entry ${chainName(chain)}'s checkpoint signs is served as ${chainName(moved.chain)}'s` }
      continue
    }
    if (h !== cp.head) return { ok: false, code: AUDIT_CODES.checkpointMismatch, seq: cp.seq, ...(chain === '' ? {} : { chain }), message: `signed head at seq ${cp.seq}${of(chain)} is ${cp.head}, the entry hashes to ${h}` }
    if (!signedAt.has(`${chain}:${cp.seq}`)) signed++
    signedAt.add(`${chain}:${cp.seq}`)
    signedThrough.set(chain, Math.max(signedThrough.get(chain) ?? -1, cp.seq))
  }
  const eventAt = (chain: string, seq: number) => groups.get(chain)?.find((x) => x.e.seq === seq)?.e.event
  const thread = joinRuns(runs, eventAt, signedThrough, params.complete === true)
  if (thread !== undefined) return { ok: false, ...thread }
  // Vouched: signed at its own seq, or named (prevHash, checked above) by a vouched successor right after it in its
  // chain, or (walletPrev, checked above and by joinWalletRuns) by its wallet's next thread entry when that one is
  // vouched — possibly in another chain. Walked back from the signed entries (each link names an earlier entry).
  const threadPrev = new Map<Item, Item>()
  const byWallet = new Map<string, Item[]>()
  for (const items of groups.values())
    for (const item of items) {
      const { wallet, walletSeq } = item.e
      if (walletSeq === undefined || wallet === null) continue
      const w = wallet.toLowerCase()
      const list = byWallet.get(w)
      if (list === undefined) byWallet.set(w, [item])
      else list.push(item)
    }
  for (const list of byWallet.values()) {
    list.sort((a, b) => (a.e.walletSeq as number) - (b.e.walletSeq as number))
    for (let k = 1; k < list.length; k++) if ((list[k]!.e.walletSeq as number) === (list[k - 1]!.e.walletSeq as number) + 1) threadPrev.set(list[k]!, list[k - 1]!)
  }
  const vouched = new Set<Item>()
  const todo: Item[] = []
  for (const items of groups.values()) for (const item of items) if (signedAt.has(`${item.chain}:${item.e.seq}`)) todo.push(item)
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    if (vouched.has(item)) continue
    vouched.add(item)
    for (const p of [predecessor.get(item), threadPrev.get(item)]) if (p !== undefined && !vouched.has(p)) todo.push(p)
  }
  const unvouched: number[] = []
  const unvouchedChains: string[] = []
  for (const items of groups.values())
    for (const item of items)
      if (!vouched.has(item)) {
        unvouched.push(item.e.seq)
        unvouchedChains.push(item.chain)
      }
  return { ok: true, count: params.entries.length, linked, signed, unvouched, unvouchedChains }
}

/**
 * chains41: a slice's wallet runs joined (see `complete`). Two runs holding one walletSeq, and two runs one after the
 * other, are joinWalletRuns's to judge (`complete`: any two in walletSeq order, so no gap either). A wallet's stay in a
 * chain begins with its wallet_loaded there (Enclave.loadWallet: the first entry of the thread it continues): a run
 * continuing the thread from another chain's, or resuming in its chain after a gap, must begin with it — an entry
 * moved to another chain's label does not. On one page (not `complete`) a gap between runs of two chains is allowed.
 */
function joinRuns(runs: readonly WalletRun[], eventAt: (chain: string, seq: number) => string | undefined, signed: ReadonlyMap<string, number>, complete: boolean): WalletRunFailure | undefined {
  const byWallet = new Map<string, WalletRun[]>()
  for (const r of runs) (byWallet.get(r.wallet) ?? byWallet.set(r.wallet, []).get(r.wallet)!).push(r)
  for (const [wallet, list] of byWallet) {
    list.sort((a, b) => a.first - b.first || a.last - b.last)
    for (let i = 1; i < list.length; i++) {
      const r = list[i - 1] as WalletRun
      const s = list[i] as WalletRun
      if (s.first <= r.last + 1 || complete) {
        const joined = joinWalletRuns([r, s], true, signed)
        if (joined !== undefined) return joined
      } else if (r.chain !== s.chain) continue // the entries between may lie outside this page's window of either chain
      if (eventAt(s.chain, s.firstSeq) !== 'wallet_loaded')
        return {
          code: AUDIT_CODES.threadBroken,
          seq: s.firstSeq,
          ...(s.chain === '' ? {} : { chain: s.chain }),
          message: `seq ${s.firstSeq}${of(s.chain)}: wallet ${wallet}: walletSeq ${s.first} follows walletSeq ${r.last} (${chainName(r.chain)}, seq ${r.lastSeq}) but is not a wallet_loaded: a stay of the wallet in a chain begins with one`,
        }
    }
  }
  return undefined
}

function fail(code: AuditCode, seq: number, message: string): VerifyAuditSliceReturnType {
  return { ok: false, code, seq, message }
}
