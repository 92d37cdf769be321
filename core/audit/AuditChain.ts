// Trusted (core: pure, no I/O; the enclave holds one): owns the audit chain head and signs checkpoints with the
// attested receipt key. The host stores the entries; it never extends the chain.
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditEntryBody,
  type AuditHead,
  type WalletThreadHead,
  AuditEntrySchema,
  AuditHeadSchema,
} from '../../shared/audit/auditEntry.js'
import { auditCheckpointMessage, auditTurnMessage } from '../../shared/audit/auditCheckpointMessage.js'
import { auditTurnTree } from '../../shared/audit/auditTurnTree.js'
import { AuditError } from '../../shared/audit/AuditError.js'
import { GENESIS_HASH, hashCanonicalAuditEntry } from '../../shared/audit/hashCanonicalAuditEntry.js'

/** Ed25519 signature (64 bytes) by the enclave's attested receipt key over `message`. */
export type AuditSigner = (message: Uint8Array) => Uint8Array

export type AuditChainParameters = {
  /** Head restored from a sealed snapshot; an empty chain when absent. */
  head?: AuditHead | undefined
  /** Each wallet's thread head, restored from its sealed blob (lower-case address → head), and the seq that blob was sealed at. */
  threads?: Iterable<readonly [string, WalletThreadHead | undefined, number?]> | undefined
  signer: AuditSigner
  /** Issue 15 step 4: this chain's id ('' or absent: the root chain); its checkpoints sign it. */
  chain?: string | undefined
  /** With `chain`: the core id (32 hex) its seq-0 entry (`chain_started`) names beside the chain id. */
  core?: string | undefined
}

/** `canonical`: the entry's canonical JSON, exactly the text its hash covers. */
export type AuditAppendReturnType = { entry: AuditEntry; hash: string; canonical: string }

/** The enclave's append-only, hash-linked audit chain (one entry per decision). */
export class AuditChain {
  #seq: number
  #hash: string
  #threads = new Map<string, WalletThreadHead>()
  /** Each loaded wallet's sealed thread head and its blob's seal seq: what resumeFrom checks the covered tail against. */
  #sealed = new Map<string, WalletThreadHead & { at: number; seen?: WalletThreadHead }>()
  /** The wallets whose blob was sealed at each seq (resumeFrom checks them when the tail reaches it). */
  #due = new Map<number, string[]>()
  readonly #signer: AuditSigner
  readonly chain: string
  readonly #core: string | undefined

  constructor(params: AuditChainParameters) {
    this.chain = params.chain ?? ''
    this.#core = params.core
    const head = AuditHeadSchema.safeParse(params.head ?? { seq: -1, hash: GENESIS_HASH })
    if (!head.success) throw new AuditError('audit_bad_entry', 'Invalid audit head', { cause: head.error })
    if (head.data.seq === -1 && head.data.hash !== GENESIS_HASH)
      throw new AuditError('audit_bad_entry', 'An empty chain must have the genesis head')
    this.#seq = head.data.seq
    this.#hash = head.data.hash
    for (const [w, t, at] of params.threads ?? []) if (t) this.#threads.set(w, t), this.#sealed.set(w, { ...t, at: at ?? -1 }), this.#due.set(at ?? -1, [...(this.#due.get(at ?? -1) ?? []), w])
    this.#signer = params.signer
  }

  /**
   * Appends one entry after the head; the body is schema-checked so the chain never holds an entry no verifier accepts.
   * `built` (enc34, the agent sign path's allowed entry only): every field was built from values already checked
   * against bounds at least as tight as the entry schema's (agentRequest, DecodedActionSchema in decodeSignRequest,
   * the policy schema), so the parse is skipped; enclave/agent/signedEntryNeedsNoParse.test.ts holds it to that.
   */
  /** gov36: what a CreateWallet/ImportWallet for this enclave names (`auditChain`): core id ‖ chain id (zeros: the root chain). */
  get id(): `0x${string}` {
    return `0x${this.#core ?? ''}${this.chain || '0'.repeat(32)}`
  }

  append(body: AuditEntryBody, built = false): AuditAppendReturnType {
    // Issue 15: an entry naming a wallet continues that wallet's thread (walletSeq, walletPrev), inside the hash.
    const w = body.wallet?.toLowerCase(), t = w === undefined ? undefined : (this.#threads.get(w) ?? { walletSeq: 0, hash: GENESIS_HASH })
    // Issue 15 step 4: a non-root chain's seq 0 names the chain and its core, so every later entry commits to both.
    const start = this.#seq === -1 && this.chain ? { chain: this.chain, core: this.#core } : undefined
    const whole = { ...body, seq: this.#seq + 1, prevHash: this.#hash, ...(t && { walletSeq: t.walletSeq + 1, walletPrev: t.hash }), ...start }
    const parsed = built ? { success: true as const, data: whole } : AuditEntrySchema.safeParse(whole)
    if (!parsed.success)
      throw new AuditError('audit_bad_entry', 'Audit entry does not match the schema', {
        details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      })
    const entry = parsed.data
    // Canonicalized once; this string is exactly what the hash covers.
    const canonical = canonicalJson(entry)
    const hash = hashCanonicalAuditEntry(entry.prevHash, canonical)
    this.#seq = entry.seq
    this.#hash = hash
    if (w !== undefined) this.#threads.set(w, { walletSeq: entry.walletSeq!, hash })
    return { entry, hash, canonical }
  }

  /** A wallet's thread head (walletSeq 0 and GENESIS_HASH: no entry of it since threads began); sealed in its blob. */
  thread(wallet: string): WalletThreadHead {
    return this.#threads.get(wallet.toLowerCase()) ?? { walletSeq: 0, hash: GENESIS_HASH }
  }

  /** Issue 15 step 3: a wallet loaded into (head: its thread continues here) or dropped from (undefined) this chain. */
  setThread(wallet: string, head: WalletThreadHead | undefined): void {
    if (head) this.#threads.set(wallet.toLowerCase(), head)
    else this.#threads.delete(wallet.toLowerCase())
  }

  /**
   * Signs the current head, or `at` (an entry this chain appended: its seq and hash as `append` returned them):
   * `{ seq, head, time, signature }` (see auditCheckpointMessage for the bytes).
   */
  checkpoint(now: number, at: AuditHead = this.head(), message?: Uint8Array): AuditCheckpoint {
    if (at.seq < 0) throw new AuditError('audit_chain_empty', 'Cannot checkpoint an empty audit chain')
    if (!Number.isSafeInteger(now) || now < 0)
      throw new AuditError('audit_bad_entry', 'Checkpoint time must be a non-negative integer (ms)')
    const { seq, hash: head } = at
    const chain = this.chain || undefined
    const signature = this.#signer(message ?? auditCheckpointMessage({ seq, head, time: now, chain }))
    if (signature.length !== 64)
      throw new AuditError('audit_bad_entry', 'Audit signer must return a 64-byte Ed25519 signature')
    return { seq, head, time: now, ...(chain && { chain }), signature: `0x${Buffer.from(signature).toString('hex')}` }
  }

  /**
   * turn18: one signature for a turn's block heads (entries this chain appended): each head's checkpoint, whose
   * signature field carries the one Ed25519 signature over the heads' Merkle root, its index and path (auditTurnTree).
   */
  turnCheckpoints(now: number, heads: readonly AuditHead[]): AuditCheckpoint[] {
    if (heads.length < 2) return heads.map((h) => this.checkpoint(now, h))
    const { root, paths } = auditTurnTree(heads), chain = this.chain || undefined
    // checkpoint() checks the time and the signature's length; its signature over the root message is the turn's.
    const sig = this.checkpoint(now, heads[0]!, auditTurnMessage({ root: `0x${root.toString('hex')}`, time: now, chain })).signature
    return heads.map((h, i) => ({ seq: h.seq, head: h.hash, time: now, ...(chain && { chain }), signature: `${sig}.${i}${paths[i]!.map((p) => `.${p.toString('hex')}`).join('')}` }))
  }

  /** The head: what the sealed snapshot keeps (a new AuditChain({ head }) continues from it). */
  head(): AuditHead {
    return { seq: this.#seq, hash: this.#hash }
  }

  /**
   * Replays entries the host supplies after a snapshot's head (schema-parsed by the caller: AuditEntry values),
   * checking each continues the chain; all-or-nothing. Throws audit_resume_gap on a sequence gap and
   * audit_resume_mismatch on a broken link.
   */
  resumeFrom(entries: readonly AuditEntry[]): AuditHead {
    let seq = this.#seq
    let hash = this.#hash
    const threads = new Map(this.#threads), seen = new Map<string, WalletThreadHead>()
    for (const entry of entries) {
      // SECURITY: the host chooses what it supplies; only an exact continuation of our sealed head is accepted.
      if (entry.seq !== seq + 1) throw new AuditError('audit_resume_gap', 'Supplied audit entries do not continue the head', { details: `expected seq ${seq + 1}, got ${entry.seq}` })
      if (entry.prevHash !== hash) throw new AuditError('audit_resume_mismatch', 'Supplied audit entry does not link to the head', { details: `seq ${entry.seq}: expected prevHash ${hash}, got ${entry.prevHash}` })
      seq = entry.seq
      hash = hashCanonicalAuditEntry(hash, canonicalJson(entry))
      // Thread heads move with the tail. SECURITY (the NOTES hole, test spliceOfTwoForks): an entry the wallet's blob
      // holds (seq ≤ its seal) is passed only up to the blob's head, and the entry at the head must be the one sealed;
      // after the seal, only the exact continuation (a fork's entries spliced in show at once, not at the next entry).
      const w = entry.wallet?.toLowerCase() ?? ''
      const t = threads.get(w) ?? this.thread(w), sealed = this.#sealed.get(w)
      const broken = () => new AuditError('audit_resume_mismatch', `Supplied audit entry ${entry.seq} does not continue its wallet's thread`)
      if (entry.walletSeq !== undefined && sealed && entry.seq <= sealed.at) {
        if (entry.walletSeq > sealed.walletSeq || (entry.walletSeq === sealed.walletSeq && hash !== sealed.hash)) throw broken()
        seen.set(w, { walletSeq: entry.walletSeq, hash })
      } else if (entry.walletSeq !== undefined) {
        if (entry.walletSeq !== t.walletSeq + 1 || entry.walletPrev !== t.hash) throw broken()
        threads.set(w, { walletSeq: entry.walletSeq, hash })
      }
      // At a blob's seal seq, its wallet's last entry the tail held must be the blob's head (else a fork's entries).
      for (const d of this.#due.get(entry.seq) ?? []) {
        const x = seen.get(d) ?? this.#sealed.get(d)!.seen, h = this.#sealed.get(d)!
        if (x && (x.walletSeq !== h.walletSeq || x.hash !== h.hash)) throw broken()
      }
    }
    for (const [d, x] of seen) this.#sealed.get(d)!.seen = x
    this.#seq = seq
    this.#hash = hash
    this.#threads = threads
    return this.head()
  }
}

/**
 * Issue 15 step 3 (loadWallet): a wallet's tail written in another chain (the enclave that held it before) after its
 * blob. Checked by the thread alone: every entry names the wallet; entries the blob holds (walletSeq ≤ its head, the
 * one at the head hashing to it: the host's row seq may precede the blob's seal) are passed, then each continues the
 * thread exactly (walletSeq + 1, walletPrev = the previous entry's hash). The entries' MACs are checked by the caller.
 */
export function continueThread(from: WalletThreadHead, wallet: string, entries: readonly AuditEntry[]): WalletThreadHead {
  let t = from
  for (const e of entries) {
    const held = t === from && e.walletSeq !== undefined && e.walletSeq <= from.walletSeq
    if (held && e.wallet?.toLowerCase() === wallet && (e.walletSeq! < from.walletSeq || hashCanonicalAuditEntry(e.prevHash, canonicalJson(e)) === from.hash)) continue
    if (e.wallet?.toLowerCase() !== wallet || e.walletSeq !== t.walletSeq + 1 || e.walletPrev !== t.hash)
      throw new AuditError('audit_resume_mismatch', `Supplied audit entry ${e.seq} does not continue wallet ${wallet}'s thread`, { details: `expected walletSeq ${t.walletSeq + 1}, got ${e.walletSeq}` })
    t = { walletSeq: e.walletSeq, hash: hashCanonicalAuditEntry(e.prevHash, canonicalJson(e)) }
  }
  return t
}
