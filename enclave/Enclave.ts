/**
 * TRUST: the enclave's state holder and single writer. Everything the host
 * hands in (snapshots, replayed entries, requests) is checked here or in the
 * handlers; everything that leaves is either public (addresses, audit
 * entries, signatures) or sealed.
 */
import { type KeyObject, createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody, AuditEvent, AuditHead } from '../shared/audit/auditEntry.js'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { MAX_FRAME_BYTES } from '../shared/protocol/frame.js'
import type { Persist, ResultOf, WireCheckpoint } from '../shared/protocol/messages.js'
import { AuditChain, continueThread } from '../core/audit/AuditChain.js'
import { GENESIS_HASH } from '../shared/audit/hashCanonicalAuditEntry.js'
import { checkReplayable } from './state/loadState.js'
import { applyEvents } from './owner/ledgerOps.js'
import type { NsmProvider } from './nsm/NsmProvider.js'
import { type Phase, canTransition } from './protocol/phase.js'
import { ReleaseInOrder } from './protocol/releaseInOrder.js'
import { SealError } from './seal/SealError.js'
import type { Sealer } from './seal/Sealer.js'
import { ReplayCache } from './state/ReplayCache.js'
import type { EncodedIds } from '../core/replay/RecentIds.js'
import { EnclaveState } from './state/EnclaveState.js'
import { SerialQueue } from './state/SerialQueue.js'
import { type WalletBlob, decodeCore, decodeWalletBlob, encodeCore, walletBlobParts } from '../core/state/snapshotCodec.js'
import type { WalletView } from '../core/state/stateTypes.js'
import type { Admission } from '../shared/owner/parseAdmission.js'
import { randomKeyPair } from '../shared/identity/randomKeyPair.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'

export type EnclaveParameters = {
  mode: 'sim' | 'nitro'
  sealer: Sealer
  nsm: NsmProvider
  configVersion: string
  /** Who may create wallets (fixed at start, bound into the attested config version). */
  admission: Admission
  log: (line: string) => void
  now?: () => number
  /** Snapshot after this many audit entries (owner acts always snapshot). */
  snapshotEvery?: number
  /** floor40b: only sim/main.sim.ts passes it (tests' stacks); enclave/main.ts never does: the floor is start + 2 s. */
  agentStartFloorMs?: number | undefined
}

/** A request's accumulated side effects, turned into the response's `persist`. */
export type Tx = { entries: string[]; snapshot: boolean; head?: AuditHead; first?: number }
/** `head`: the block's last entry, which its checkpoint signs (absent: no entries); `first`: its first entry's seq. */
export type PendingPersist = { entries: string[]; sealed: Persist['sealed']; head?: AuditHead | undefined; first?: number | undefined }

export const SNAPSHOT_PURPOSE = 'enclave-state'
/** Issue 15: each wallet's blob, sealed with walletId = its address and its own version. */
export const WALLET_PURPOSE = 'wallet-state'
type Sealed = NonNullable<Persist['sealed']>
/** A seal made: `seals` are committed once it goes out; `sealedSeq`: the head it was captured at. */
type Made = { sealed: Sealed; changed: string[]; seals: Map<string, WalletSeal>; sealedSeq: number }
/** tail38: a seal's plaintext, captured in the writer (the core's directory digests of `wallets` filled after their seal). */
type Captured = {
  head: AuditHead
  changed: string[]
  wallets: Array<{ wallet: string; version: number; plaintext: Uint8Array[] }>
  directory: Array<[string, number, Uint8Array]>
  core: Omit<Parameters<typeof encodeCore>[0], 'directory'>
}
/** A wallet's newest sealed blob: what the core's directory names; `through`: the head up to which it is current; `at`: its seal's seq (-1: loaded). */
type WalletSeal = { version: number; digest: Uint8Array; bytes: number; through: AuditHead; at: number }
/**
 * Issue 18: periodic seals are staggered. Every snapshotEvery / STAGGER entries, at most ceil(changed / STAGGER) of
 * the changed wallets whose state is ≥ snapshotEvery entries old are sealed (oldest first) with the core; the core's
 * head is then the oldest unsealed change's, so replay rebuilds them. Owner acts and the unstored bound seal all.
 */
export const STAGGER = 16
/**
 * tail39: for a bench probe (scripts/bench/gcTrace.mjs), published only to a subscriber: each periodic seal's capture
 * (in the writer) and encryption (a turn of its own), and each writer turn (from its first block to its signature).
 */
const writerTrace = channel('bursar.writer')
const trace = (step: string, at: number, more: object) => writerTrace.hasSubscribers && writerTrace.publish({ step, at, ms: performance.now() - at, ...more })
/** Leaves room in a response frame for the entries and checkpoint beside the snapshot. */
export const MAX_SNAPSHOT_BYTES = MAX_FRAME_BYTES - 1024 * 1024
/** Entries kept until the host says it stored them (F1); beyond either bound a fresh snapshot covers them instead. */
export const MAX_UNSTORED_ENTRIES = 8192
export const MAX_UNSTORED_BYTES = 16 * 1024 * 1024
/**
 * fix35: what catchUps may re-send: the fullest answer at once (every unstored entry and a snapshot), then a quarter
 * frame (~7.7 MiB) a second, ~8× what an honest host's acks re-send at full load; beyond it a catchUp still forgets
 * what the host stored but re-sends nothing (it stays kept for a later one): hostFloodsCatchUp.
 */
export const CATCH_UP_RESEND_BURST_BYTES = MAX_UNSTORED_BYTES + MAX_SNAPSHOT_BYTES
export const CATCH_UP_RESEND_BYTES_PER_S = MAX_SNAPSHOT_BYTES / 4

export class Enclave {
  phase: Phase = 'awaiting_state'
  readonly queue = new SerialQueue()
  readonly releaseOrder = new ReleaseInOrder()
  readonly startedAt: number
  readonly replay: ReplayCache
  readonly now: () => number
  /** The sealed state: read through its views, changed only by `state.apply` (inside the writer). */
  readonly state = new EnclaveState()
  audit!: AuditChain
  private receiptKey!: KeyObject
  private receiptKeyDer!: Uint8Array
  /** tail39: its PKCS#8 bytes, exported once (every core seal holds them; the export was ~0.2 ms of each capture). */
  private receiptKeyPkcs8!: Uint8Array
  /** Authenticates each stored entry to this enclave (HMAC-SHA256 over its hash), so replayed entries cannot be forged. */
  private entryMacKey!: Uint8Array
  /** Issue 12 stage A: the governance link key (HMAC of owner-act views and decisions), sealed in the core blob. */
  linkKey!: Uint8Array
  private entriesSinceSnapshot = 0
  /** An owner act's seal failed (sealTx): the next seal is a full one. */
  private snapshotOwed = false
  /** Size of the last sealed snapshot (the state-size guard for state-growing owner acts reads it). */
  private snapshotBytes = 0
  private fresh = true
  /** Set while a load is half-done or was refused: only a new loadState continues (no half-replayed state goes ready). */
  private broken = false
  /** Entries not yet known to be stored, re-sent on catchUp so a host crash leaves no hole (F1). */
  private unstored: Array<{ seq: number; text: string; hash: string }> = []
  private unstoredBytes = 0
  /** What catchUps may still re-send (bytes) as of `at` (fix35). */
  private readonly resendBudget = { bytes: CATCH_UP_RESEND_BURST_BYTES, at: 0 }
  /** The newest sealed core blob, re-sent on catchUp until the host says it has it. */
  private lastSealed: Persist['sealed'] = null
  /** The audit seq that core was sealed at (its `auditSeq` is where its replay starts: earlier for a staggered one). */
  private lastSealedAt = -1
  /** Each wallet's newest blob sealed since the host last said which core it has (`at`: that seal's core version). */
  private unackedWallets = new Map<string, { wallet: string; version: number; blob: Uint8Array; at: number }>()
  /** Each wallet's newest sealed blob (the core's directory). */
  private readonly walletSeals = new Map<string, WalletSeal>()
  private coreId!: Uint8Array
  /** Issue 15 step 3: each wallet this enclave dropped, with its final blob (a blob older than it will not load here). */
  private readonly dropped = new Map<string, { version: number; digest: Uint8Array }>()
  /**
   * fix15: wallets that came by loadWallet with their replay memory (the blob's ids + the stored tail's): the start
   * floor is not applied to them. A decision of the old holder that is in neither was never stored, so its answer
   * never left (stored before answered, the fence): deciding a resend afresh cannot double a signature anyone got.
   */
  readonly carried = new Set<string>()
  /** From the loaded core: the seq up to which each wallet's blob (`behind`) or else the core is current (finishLoad: the replay reached it). */
  covered = { sealedSeq: -1, behind: new Map<string, number>() }

  constructor(readonly params: EnclaveParameters) {
    this.now = params.now ?? Date.now
    this.startedAt = this.now()
    this.replay = new ReplayCache(this.startedAt, undefined, undefined, params.agentStartFloorMs)
  }

  transition(to: Phase): void {
    if (!canTransition(this.phase, to)) this.halt(`illegal transition ${this.phase} → ${to}`)
    this.phase = to
  }

  /** A broken invariant: stop signing for good; only hello answers from here on. */
  halt(why: string): never {
    this.params.log(`HALT: ${why}`)
    this.phase = 'halted'
    throw new EnclaveError('enclave_halted', 'Enclave halted on a broken invariant')
  }

  /**
   * Unseals the host's newest core blob and the wallet blobs it names (or starts fresh) and moves to 'loading'; in
   * 'loading' it restarts the load. SECURITY (issue 15): the core names each wallet's newest blob by version and
   * SHA-256, so the host can neither drop a wallet, nor hand an older or another lineage's blob of it, nor one sealed
   * for another wallet or core; the tail after the core's head replays (issue 18: that head may be a deferred wallet's, see STAGGER).
   */
  async loadSnapshot(blob: Uint8Array | null, wallets: ReadonlyArray<{ wallet: string; blob: Uint8Array }> = [], newChain = false): Promise<void> {
    this.broken = true
    this.state.apply({ type: 'loaded', stateVersion: 0, wallets: [], createNonces: [] })
    this.fresh = true
    this.entriesSinceSnapshot = 0
    this.forgetStored(Number.POSITIVE_INFINITY)
    this.lastSealed = null
    this.pendingSeal = null
    this.unackedWallets.clear()
    this.walletSeals.clear()
    this.dropped.clear()
    this.carried.clear()
    this.covered = { sealedSeq: -1, behind: new Map() }
    if (newChain) {
      // Issue 15 step 4: the lineage's keys and core id from any of its cores; no wallet, a new chain (chain_started at finishLoad).
      const s = blob && decodeCore((await this.params.sealer.unseal({ blob, purpose: SNAPSHOT_PURPOSE, walletId: '' })).plaintext)
      if (!s || s.legacy) throw new EnclaveError('state_invalid', 'A new chain starts from a core blob of the lineage (format 2)')
      this.setReceiptKey(createPrivateKey({ key: Buffer.from(s.receiptKeyPkcs8), format: 'der', type: 'pkcs8' }))
      ;[this.entryMacKey, this.coreId, this.fresh, this.snapshotBytes, this.linkKey] = [s.entryMacKey, s.coreId, false, 0, s.linkKey ?? randomBytes(32)]
      this.audit = new AuditChain({ signer: this.receiptSigner, chain: randomBytes(16).toString('hex'), core: Buffer.from(s.coreId).toString('hex') })
      this.state.apply({ type: 'loaded', stateVersion: 0, wallets: [], createNonces: s.createNonces })
    } else if (blob) {
      const { plaintext, version } = await this.params.sealer.unseal({ blob, purpose: SNAPSHOT_PURPOSE, walletId: '' })
      const s = decodeCore(plaintext)
      if (s.stateVersion !== version) throw new EnclaveError('state_invalid', 'Snapshot version does not match its seal')
      const given = new Map(wallets.map((w) => [w.wallet.toLowerCase(), w.blob]))
      // A blob the core does not name is not loaded (issue 15 step 3: a store keeps the blobs of wallets dropped to another enclave).
      // A format-1 snapshot (one blob, before per-wallet blobs) holds its wallets itself; the first seal below splits them.
      const loaded = s.legacy ? s.legacy.map((wallet) => ({ wallet, version: 0, replay: [] })) : await Promise.all(s.directory.map(([a, v, digest]) => this.unsealWallet(a.toLowerCase(), { version: v, digest, exact: true }, given.get(a.toLowerCase()), s.coreId)))
      this.snapshotBytes = blob.length + wallets.reduce((n, w) => n + w.blob.length, 0)
      this.setReceiptKey(createPrivateKey({ key: Buffer.from(s.receiptKeyPkcs8), format: 'der', type: 'pkcs8' }))
      const threads = loaded.map((b) => [b.wallet.address.toLowerCase(), (b as Partial<WalletBlob>).thread, (b as Partial<WalletBlob>).auditSeq] as const)
      this.coreId = s.legacy ? randomBytes(16) : s.coreId
      this.audit = new AuditChain({ head: s.auditHead ?? undefined, threads, signer: this.receiptSigner, chain: s.chain, core: Buffer.from(this.coreId).toString('hex') })
      this.entryMacKey = s.entryMacKey
      this.linkKey = s.linkKey ?? randomBytes(32) // a core sealed before issue 12 gets one, sealed at its next seal
      this.state.apply({ type: 'loaded', stateVersion: s.stateVersion, wallets: loaded.map((b) => b.wallet), createNonces: s.createNonces,
        versions: loaded.map((b) => [b.wallet.address, b.version]) })
      s.directory.forEach(([a, version, digest]) => this.walletSeals.set(a.toLowerCase(), { version, digest, bytes: given.get(a.toLowerCase())!.length, through: this.audit.head(), at: -1 }))
      this.covered = { sealedSeq: s.sealedSeq ?? this.audit.head().seq, behind: new Map(s.behind) }
      for (const [key, at] of [s.replay, ...loaded.map((b) => b.replay)].flat()) this.replay.remember(key, at)
      // The first seal after a load re-seals every wallet (new versions): a lineage's store starts from a complete set.
      this.state.markChanged([...this.state.wallets.keys()], true)
      this.fresh = false
    } else {
      this.setReceiptKey(randomKeyPair('ed25519').privateKey)
      this.coreId = randomBytes(16)
      this.audit = new AuditChain({ signer: this.receiptSigner, core: Buffer.from(this.coreId).toString('hex') }) // gov36: its id names the core
      this.entryMacKey = randomBytes(32)
      this.linkKey = randomBytes(32)
    }
    if (this.phase !== 'loading') this.transition('loading')
    this.broken = false
  }

  /** One wallet's blob, checked against the core's directory entry (address, version, digest; loadWallet: not older than `named`) and core id. */
  private async unsealWallet(address: string, named: { version: number; digest: Uint8Array; exact?: boolean } | undefined, blob: Uint8Array | undefined, coreId: Uint8Array): Promise<WalletBlob> {
    if (!blob) throw new EnclaveError('state_wallet_missing', `No blob for wallet ${address}, which the core blob names`)
    let u: Awaited<ReturnType<Sealer['unseal']>>
    try {
      u = await this.params.sealer.unseal({ blob, purpose: WALLET_PURPOSE, walletId: address })
    } catch (err) {
      if (err instanceof SealError && err.code === 'seal_context_mismatch') throw new EnclaveError('state_wallet_foreign', `The blob handed in for wallet ${address} was sealed for another`, { cause: err })
      throw err
    }
    const b = decodeWalletBlob(u.plaintext)
    if (b.wallet.address.toLowerCase() !== address || b.version !== u.version) throw new EnclaveError('state_wallet_foreign', `The blob handed in for wallet ${address} is another wallet's`)
    if (!Buffer.from(b.coreId).equals(coreId)) throw new EnclaveError('state_wallet_foreign', `The blob of wallet ${address} was sealed under another core (enclave or cluster)`)
    if (named && (named.exact ? b.version !== named.version : b.version < named.version)) throw new EnclaveError('state_wallet_stale', `Wallet ${address}'s blob has version ${b.version}; the core blob (or its drop here) names ${named.version}`)
    if (named && b.version === named.version && !sha256(blob).equals(named.digest)) throw new EnclaveError('state_wallet_foreign', `Wallet ${address}'s blob is not the one the core blob names (another lineage)`)
    return b
  }

  /** Whether a replayed entry is already in the loaded state: its wallet's blob, or the core, was sealed after it. */
  replayCovers(e: { seq: number; wallet: string | null }): boolean {
    return e.seq <= (this.covered.behind.get(e.wallet?.toLowerCase() ?? '') ?? this.covered.sealedSeq)
  }

  /** Drops kept entries up to `seq` (the host has them). */
  private forgetStored(seq: number): void {
    let n = 0
    while (n < this.unstored.length && this.unstored[n]!.seq <= seq) this.unstoredBytes -= Buffer.byteLength(this.unstored[n++]!.text)
    this.unstored.splice(0, n)
    if (this.unstored.length === 0) this.unstoredBytes = 0
  }

  /**
   * catchUp (F1): a host that (re)connects says what it has stored; the kept entries after that and the newest
   * snapshot if it lacks it go out again in `persist` (storing them twice is harmless: same seq, same hash).
   */
  async catchUp(storedThrough: number, snapshotVersion: number): Promise<{ result: ResultOf<'catchUp'>; persist: Persist }> {
    this.forgetStored(storedThrough)
    // tail38: an encrypted periodic seal whose entries have all left goes out now (an idle enclave has no later block).
    if (this.pendingSeal?.made && this.pendingSeal.made.sealedSeq < this.releaseOrder.next) this.commitSeal(this.takePendingSeal(), false)
    if (this.lastSealed && this.lastSealed.version <= snapshotVersion) this.lastSealed = null
    for (const [a, w] of this.unackedWallets) if (w.at <= snapshotVersion) this.unackedWallets.delete(a)
    // The newest core and every wallet blob sealed since the core the host has: together, a loadable set.
    // A staggered core goes out only once its entries have (rt18): a store holding it without them cannot load it.
    const ahead = this.lastSealed && this.lastSealed.auditSeq < this.lastSealedAt && this.lastSealedAt >= this.releaseOrder.next
    const sealed = ahead ? null : this.lastSealed && { ...this.lastSealed, wallets: [...this.unackedWallets.values()].map(({ at: _at, ...w }) => w) }
    // Not the entries whose answer has not left yet (being signed, waiting their turn): they go out in that answer,
    // stored with it. A host that stored them first and then died would hold a decision whose answer no one has.
    let kept = this.unstored.filter((u) => u.seq < this.releaseOrder.next)
    // One frame: if entries and snapshot do not fit together, the snapshot covers the entries up to its seq.
    if (sealed && this.unstoredBytes + sealedBytes(sealed) > MAX_SNAPSHOT_BYTES) kept = kept.filter((u) => u.seq > sealed.auditSeq)
    // fix35: paid from the re-send budget (at most what it could cost); beyond it nothing goes out, all stays kept.
    const b = this.resendBudget, now = this.now(), cost = Math.min(CATCH_UP_RESEND_BURST_BYTES, this.unstoredBytes + (sealed ? sealedBytes(sealed) : 0))
    b.bytes = Math.min(CATCH_UP_RESEND_BURST_BYTES, b.bytes + (Math.max(0, now - b.at) * CATCH_UP_RESEND_BYTES_PER_S) / 1000)
    b.at = now
    const send = cost <= b.bytes
    if (send) b.bytes -= cost
    else kept = []
    const persist = await this.completeTx({ entries: kept.map((u) => u.text), sealed: send ? sealed : null, head: kept.at(-1) && { seq: kept.at(-1)!.seq, hash: kept.at(-1)!.hash }, first: kept[0]?.seq })
    return { result: { ...this.readyResult(), resent: kept.length }, persist }
  }

  /** The state's version and audit head (null for an empty chain): what loadState and replayEntries answer. */
  headResult(): ResultOf<'loadState'> {
    const head = this.audit.head()
    return { stateVersion: this.state.version, auditHead: head.seq >= 0 ? head : null, ...(this.audit.chain && { chain: this.audit.chain }) }
  }

  readyResult(): ResultOf<'finishLoad'> {
    return { phase: 'ready', ...this.headResult(), receiptPublicKey: this.receiptPublicKeyHex, wallets: this.state.wallets.size }
  }

  private setReceiptKey(key: KeyObject): void {
    this.receiptKey = key
    this.receiptKeyDer = createPublicKey(key).export({ format: 'der', type: 'spki' })
    this.receiptKeyPkcs8 = key.export({ format: 'der', type: 'pkcs8' })
  }

  readonly receiptSigner = (bytes: Uint8Array): Uint8Array => sign(null, bytes, this.receiptKey)

  /** The sealed receipt key's PKCS#8 bytes, the input of secrets derived from it (the X25519 import key). */
  receiptKeyMaterial(): Uint8Array {
    return new Uint8Array(this.receiptKeyPkcs8) // a copy: the cached bytes stay as exported
  }

  get isFresh(): boolean {
    return this.fresh
  }

  /** Whether a load is half-done or was refused (set by loadSnapshot and by replayEntries while it applies). */
  get loadBroken(): boolean {
    return this.broken
  }

  markLoadBroken(broken: boolean): void {
    this.broken = broken
  }

  /** Size of the last sealed snapshot, in bytes. */
  get lastSnapshotBytes(): number {
    return this.snapshotBytes
  }

  /** The receipt key's public half (SPKI DER): what attestation documents bind. */
  get receiptPublicKeyDer(): Uint8Array {
    return this.receiptKeyDer
  }

  get receiptPublicKeyHex(): `0x${string}` {
    return `0x${Buffer.from(this.receiptKeyDer).toString('hex')}`
  }

  /** HMAC-SHA256(entryMacKey, entry hash) as hex: proof that this enclave wrote the entry. */
  entryMac(hash: string): string {
    return createHmac('sha256', this.entryMacKey).update(hash).digest('hex')
  }

  beginTx(): Tx {
    return { entries: [], snapshot: false }
  }

  /** Appends one audit entry (the chain fills seq/prevHash) and records it for the host to store. */
  appendEntry(tx: Tx, body: Omit<AuditEntryBody, 'time' | 'stateVersion'>, built = false): { entry: AuditEntry; hash: `0x${string}` } {
    const res = this.audit.append({ ...body, time: this.now(), stateVersion: this.state.version } as AuditEntryBody, built)
    const w = body.wallet?.toLowerCase() ?? ''
    if (this.state.wallets.has(w)) this.state.markChanged([w], true) // issue 15: its blob holds its thread head
    // Issue 18 (cpu18): the hashed canonical text with the hash and MAC appended (one serialization; readers parse it).
    const text = `${res.canonical.slice(0, -1)},"hash":"${res.hash}","mac":"${this.entryMac(res.hash)}"}`
    tx.entries.push(text)
    tx.first ??= res.entry.seq
    tx.head = { seq: res.entry.seq, hash: res.hash }
    this.unstored.push({ seq: res.entry.seq, text, hash: res.hash })
    this.unstoredBytes += Buffer.byteLength(text) // UTF-8, as on the wire: a catchUp answer must fit one frame
    this.entriesSinceSnapshot++
    if (body.agentId && body.requestId && body.wallet) this.replay.logged(`${body.agentId}:${body.requestId}`, [res.entry.seq, body.wallet])
    return res as { entry: AuditEntry; hash: `0x${string}` }
  }

  /** Appends an informational entry (owner acts, load): no action, request, policy or ledger unless `fields` has them. */
  appendInfo(tx: Tx, event: AuditEvent, fields: Partial<Omit<AuditEntryBody, 'time' | 'stateVersion' | 'event'>> = {}): void {
    const none = { wallet: null, agentId: null, action: null, reason: null, policy: null, rule: null, code: null, signedHash: null, requestId: null }
    this.appendEntry(tx, { ...none, event, verdict: 'info', ledger: [], ...fields })
  }

  /**
   * Inside the single writer: closes a tx's entries and seals a snapshot when due. An owner act's or the unstored
   * bound's seal covers exactly the entries appended so far and rides in this block. tail38: a periodic (staggered)
   * seal is captured here as plaintext, encrypted outside the writer (sim: AES; Nitro: a KMS round trip per blob) and
   * rides with a later block that has entries: the host stores that block after every entry up to the seal's head
   * (released in seq order before it), and until then the seal is nothing anyone relies on (catchUp, lastSealed,
   * the wallets' directory, snapshotOwed see only seals that went out).
   */
  async sealTx(tx: Tx): Promise<PendingPersist> {
    const over = this.unstored.length > MAX_UNSTORED_ENTRIES || this.unstoredBytes > MAX_UNSTORED_BYTES
    const every = this.params.snapshotEvery ?? 5000
    // An owner act's full seal stays owed until one is stored: else a staggered core deferring its wallet would
    // replay the act's entry, which replay refuses (rt18: the host fails that seal's KMS call, then restarts).
    const owed = (this.snapshotOwed ||= tx.snapshot)
    if (owed || over) this.dropPendingSeal() // its wallets are sealed again here, in this block
    let made = owed || over ? await this.sealSnapshot(0) : null
    if (!made && tx.head && this.pendingSeal?.made) made = this.takePendingSeal()
    const sealed = made && this.commitSeal(made, owed)
    if (!owed && !over && !this.pendingSeal && this.entriesSinceSnapshot >= Math.ceil(every / STAGGER)) this.startSeal(every)
    // Too many kept entries: a sealed snapshot covers them all; without one, keep the newest within the bound.
    if (over) this.forgetStored(sealed ? sealed.auditSeq : (this.unstored[this.unstored.length >> 1]?.seq ?? -1))
    return { entries: tx.entries, sealed, head: tx.head, first: tx.first }
  }

  /**
   * Makes a seal the newest one (it goes out now): every wallet blob the host has not acknowledged rides with each
   * core blob, so a stored core is loadable even when an earlier persist block was lost (a store error, then a newer
   * core stored: test lostSealThenNewerCore). Null: too large to frame (its wallets are sealed next time).
   */
  private commitSeal(made: Made, owed: boolean): Sealed | null {
    const resent = [...this.unackedWallets.values()].filter((w) => !made.seals.has(w.wallet)).map(({ at: _at, ...w }) => w)
    const sealed = { ...made.sealed, wallets: [...(made.sealed.wallets ?? []), ...resent] }
    if (sealedBytes(sealed) > MAX_SNAPSHOT_BYTES) {
      // A periodic snapshot too large to frame is skipped (the entries still go out and replay; its wallets are
      // sealed next time); an owner act's snapshot cannot be skipped (replay refuses owner acts after the
      // snapshot): stop rather than lose it.
      if (owed) this.halt(`snapshot of ${sealedBytes(sealed)} bytes exceeds ${MAX_SNAPSHOT_BYTES}`)
      this.params.log(`snapshot of ${sealedBytes(sealed)} bytes skipped (limit ${MAX_SNAPSHOT_BYTES}); entries replay instead`)
      this.giveBack(made.changed)
      this.entriesSinceSnapshot = 0
      return null
    }
    for (const [a, seal] of made.seals) this.walletSeals.set(a, seal)
    for (const w of made.sealed.wallets ?? []) this.unackedWallets.set(w.wallet, { ...w, at: sealed.version })
    this.snapshotBytes = sealed.blob.length + [...this.walletSeals.values()].reduce((n, w) => n + w.bytes, 0)
    this.lastSealed = sealed
    this.lastSealedAt = made.sealedSeq // the seal's head (entries appended since are after it)
    if (owed) this.snapshotOwed = false
    return sealed
  }

  /** tail38: the periodic seal being encrypted outside the writer (at most one); `made` once encrypted, until a block carries it. */
  private pendingSeal: { changed: string[]; made: Made | null } | null = null

  /** tail38, in the writer: captures a staggered seal and encrypts it after this turn (a failure gives its wallets back). */
  private startSeal(every: number): void {
    const t0 = performance.now(), c = this.captureSnapshot(every)
    if (!c) return
    trace('capture', t0, { wallets: c.changed.length })
    const p: NonNullable<Enclave['pendingSeal']> = (this.pendingSeal = { changed: c.changed, made: null })
    setImmediate(() => {
      const t1 = performance.now()
      this.encryptSnapshot(c).then(
        (made) => { trace('encrypt', t1, { bytes: sealedBytes(made.sealed) }); if (this.pendingSeal === p) p.made = made },
        (err: Error) => {
          if (this.pendingSeal !== p) return
          this.pendingSeal = null
          this.giveBack(c.changed)
          this.params.log(`periodic seal failed (its wallets are sealed next time): ${err.message}`)
        },
      )
    })
  }

  private takePendingSeal(): Made {
    const made = this.pendingSeal!.made!
    this.pendingSeal = null
    return made
  }

  /** A seal that will not go out: its wallets are sealed again by the next one. */
  private dropPendingSeal(): void {
    if (this.pendingSeal) this.giveBack(this.pendingSeal.changed)
    this.pendingSeal = null
  }

  /**
   * Outside the writer: adds the checkpoint at the block's own last entry (issue 15, turn15: never ahead of the
   * block's entries, so a receipt names only a head stored with it; docs/audit.md "Receipt").
   */
  async completeTx(p: PendingPersist): Promise<Persist> {
    // turn18: the blocks of one turn complete together (one corked write, one host group commit) and share one
    // signature: a Merkle root over their heads, each checkpoint still at its own block's last entry with its path.
    const turn = (this.turn ??= { heads: [], done: new Promise<void>((resolve) => setImmediate(() => ((this.turn = null), resolve()))), signed: null, at: performance.now() })
    const at = p.head ? turn.heads.push(p.head) - 1 : -1
    await turn.done
    const checkpoint = at < 0 ? null : ((turn.signed ??= (trace('turn', turn.at, { blocks: turn.heads.length }), this.audit.turnCheckpoints(this.now(), turn.heads)))[at] as WireCheckpoint)
    const persist = { entries: p.entries, checkpoint, sealed: p.sealed }
    if (p.head && p.first !== undefined) this.blockSeqs.set(persist, [p.first, p.head.seq])
    return persist
  }

  private turn: { heads: AuditHead[]; done: Promise<void>; signed: AuditCheckpoint[] | null; at: number } | null = null
  /** Each block's first and last entry seq, for the in-order release (dispatch) without parsing the entries again. */
  readonly blockSeqs = new WeakMap<Persist, readonly [number, number]>()

  /** sealTx + completeTx, for rare paths (owner acts, load) that stay inside the writer. */
  async finishTx(tx: Tx): Promise<Persist> {
    return this.completeTx(await this.sealTx(tx))
  }

  /**
   * Seals the wallets changed since the last seal (with `dueAge`: a staggered share of those changed that long ago),
   * each as its own blob, and the core blob naming every wallet's newest blob; the core's version only ever grows.
   * The caller commits `seals` once the snapshot goes out. Null: no wallet was due.
   */
  async sealSnapshot(dueAge = 0): Promise<Made | null> {
    const c = this.captureSnapshot(dueAge)
    // A seal that fails (e.g. one KMS call, which the host can fail) leaves its wallets changed: else the next core
    // would name a blob older than its audit head and a load would forget that wallet's spends (rt15).
    return c && this.encryptSnapshot(c).catch((err: unknown) => { this.giveBack(c.changed); throw err })
  }

  /**
   * tail38, in the writer: what a seal holds, as plaintext (the wallets' blobs encoded, the core's fields; its
   * directory's new digests follow from the wallets' ciphertexts). Taking the changed wallets and bumping the state's
   * version happen here; a seal that is not sent gives its wallets back (`undo`). Null: no wallet was due.
   */
  private captureSnapshot(dueAge: number): Captured | null {
    const [head, all] = [this.audit.head(), this.state.takeChanged()]
    this.entriesSinceSnapshot = 0
    for (const a of this.state.wallets.keys()) if (!this.walletSeals.has(a) && !all.includes(a)) all.push(a) // never unnamed
    const age = (a: string) => head.seq - (this.walletSeals.get(a)?.through.seq ?? Number.NEGATIVE_INFINITY)
    const changed = dueAge ? all.filter((a) => age(a) >= dueAge).sort((a, b) => age(b) - age(a)).filter((a, i) => i < Math.ceil(all.length / STAGGER) || age(a) === Number.POSITIVE_INFINITY) : all
    const deferred = new Set(all.filter((a) => !changed.includes(a)))
    // A wallet unchanged since its blob is current up to here, sealed or not (replay of a later-deferred change starts at most here).
    for (const [a, w] of this.walletSeals) if (!all.includes(a)) w.through = head
    this.state.markChanged([...deferred])
    if (dueAge && changed.length === 0) return null
    this.state.apply({ type: 'version_bumped' })
    const stateVersion = this.state.version
    // Replay starts at the oldest deferred change; entries a blob or this core already holds are not applied again.
    const from = [...deferred].reduce((m, a) => (this.walletSeals.get(a)!.through.seq < m.seq ? this.walletSeals.get(a)!.through : m), head)
    // Each sealed wallet carries its agents' recent request ids. The core carries only the ids that neither the
    // replayed log (entries after `from`) nor their wallet's blob (entries up to its seal) gives back: e.g. dry runs.
    // At most 200,000 ids per seal (~18 MB, ~6,000 decisions/s over the window): a flood of requests cannot grow a
    // snapshot past its frame (an owner act's snapshot that does not fit halts the enclave). Issue 18: per agent, cached CBOR.
    // Over the cap: the newest ids admitted, whichever wallet they belong to (rt30b: not the first wallets' fill).
    let room = 200_000
    const keep = this.replay.ids.newestAdmitted(room)
    const sealedIds = new Set(changed.flatMap((a) => [...this.state.wallet(a).agents.keys()]))
    const slices = new Map<string, EncodedIds>()
    for (const a of changed) slices.set(a, this.replay.ids.encodedFor(this.state.wallet(a).agents.keys(), room, keep)), (room -= slices.get(a)!.count)
    const rest = this.replay.ids.unsealed(sealedIds, from.seq, (v) => this.walletSeals.get(v)?.at ?? -1).filter(([k]) => !keep || keep.has(k)).slice(0, Math.max(0, room))
    const wallets = changed.map((a) => ({ wallet: a, version: this.state.walletVersion(a), plaintext: this.walletPlaintext(a, head, slices.get(a)!) }))
    const named = new Map([...this.walletSeals].map(([a, w]) => [a, [w.version, w.digest] as const]))
    return {
      head, changed, wallets,
      directory: [...this.state.wallets.keys()].map((a) => [a, ...(named.get(a) ?? [0, new Uint8Array(0)])]),
      core: {
        stateVersion,
        createdAt: this.now(),
        receiptKeyPkcs8: this.receiptKeyPkcs8,
        auditHead: from.seq >= 0 ? from : null,
        sealedSeq: head.seq,
        behind: [...deferred].map((a) => [a, this.walletSeals.get(a)!.through.seq]),
        entryMacKey: this.entryMacKey,
        linkKey: this.linkKey,
        coreId: this.coreId,
        createNonces: [...this.state.createNonces],
        replay: rest,
        ...(this.audit.chain && { chain: this.audit.chain }),
      },
    }
  }

  /** tail38: encrypts a captured seal; reads nothing the writer changes (the caller gives its wallets back if it fails). */
  private async encryptSnapshot(c: Captured): Promise<Made> {
    const seals = new Map<string, WalletSeal>()
    const wallets = await Promise.all(c.wallets.map(async ({ wallet: a, version, plaintext }) => {
      const blob = await this.params.sealer.seal({ purpose: WALLET_PURPOSE, walletId: a, version, plaintext })
      seals.set(a, { version, digest: sha256(blob), bytes: blob.length, through: c.head, at: c.head.seq })
      return { wallet: a, version, blob }
    }))
    const directory = c.directory.map(([a, v, d]): [string, number, Uint8Array] => (seals.has(a) ? [a, seals.get(a)!.version, seals.get(a)!.digest] : [a, v, d]))
    const { stateVersion, auditHead } = c.core
    const blob = await this.params.sealer.seal({ purpose: SNAPSHOT_PURPOSE, walletId: '', version: stateVersion, plaintext: encodeCore({ ...c.core, directory }) })
    return { sealed: { version: stateVersion, auditSeq: auditHead?.seq ?? -1, blob, wallets }, changed: c.changed, seals, sealedSeq: c.head.seq }
  }

  /** Marks a seal's wallets for the next one again (the ones still held: a drop may have come since). */
  private giveBack(changed: readonly string[]): void {
    this.state.markChanged(changed.filter((a) => this.state.wallets.has(a)))
  }

  /** One wallet's blob as plaintext parts (its state, thread head and its agents' request ids) at its current version. */
  private walletPlaintext(a: string, head: AuditHead, replay: EncodedIds): Uint8Array[] {
    return walletBlobParts({ coreId: this.coreId, version: this.state.walletVersion(a), auditSeq: head.seq, replay, wallet: this.state.wallet(a), thread: this.audit.thread(a) })
  }

  /** Seals one wallet's blob (its state, thread head and its agents' request ids) at its current version. */
  private sealWallet(a: string, head: AuditHead, replay: EncodedIds): Promise<Uint8Array> {
    return this.params.sealer.seal({ purpose: WALLET_PURPOSE, walletId: a, version: this.state.walletVersion(a), plaintext: this.walletPlaintext(a, head, replay) })
  }

  /**
   * Issue 15 step 3, in the writer of a ready enclave: one wallet's newest blob (sealed for it under this core id —
   * the cluster's lineage —, not older than a drop here) and its tail (entries MAC'd by this lineage, agent decisions
   * only, continuing the blob's thread exactly). It joins the state at the blob's version and its thread continues
   * here: the `wallet_loaded` entry and a full seal (a core naming it, its blob at a new version) are this answer's.
   */
  async loadWallet(address: string, blob: Uint8Array, tail: AuditEntry[]): Promise<{ result: ResultOf<'loadWallet'>; persist: Persist }> {
    const a = address.toLowerCase()
    if (this.state.wallets.has(a)) throw new EnclaveError('wallet_already_loaded', `This enclave holds wallet ${a} already`)
    // SECURITY (rt31a): the owner path's bounds hold for a load too, else loads past them brick the next restart (one frame).
    checkLimit(this.state.wallets.size < OWNER_LIMITS.walletsTotal, 'walletsTotal', `This enclave holds its maximum of ${OWNER_LIMITS.walletsTotal} wallets`)
    checkLimit(this.snapshotBytes + blob.length <= OWNER_LIMITS.stateSoftBytes, 'stateSoftBytes', `The sealed state is ${this.snapshotBytes} bytes; with this blob past ${OWNER_LIMITS.stateSoftBytes}`)
    const b = await this.unsealWallet(a, this.dropped.get(a), blob, this.coreId)
    const from = b.thread ?? { walletSeq: 0, hash: GENESIS_HASH }, thread = continueThread(from, a, tail)
    tail = tail.filter((e) => e.walletSeq! > from.walletSeq) // not those the blob holds
    tail.forEach(checkReplayable) // all checked before anything changes
    this.state.apply({ type: 'wallet_added', wallet: b.wallet, version: b.version })
    this.dropped.delete(a)
    this.carried.add(a)
    this.audit.setThread(a, thread)
    for (const [key, at] of [...b.replay, ...tail.flatMap((e): Array<[string, number]> => (e.agentId && e.requestId ? [[`${e.agentId}:${e.requestId}`, e.time]] : []))]) this.replay.remember(key, at)
    for (const e of tail) if (e.ledger.length > 0) applyEvents(this, this.wallet(a), e.ledger)
    const tx = this.beginTx()
    tx.snapshot = true
    this.appendInfo(tx, 'wallet_loaded', { wallet: a })
    return { result: { wallet: a, version: b.version, walletSeq: this.audit.thread(a).walletSeq, replayed: tail.length }, persist: await this.finishTx(tx) }
  }

  /**
   * Issue 15 step 3, in the writer: audits `wallet_dropped` (the wallet's last entry here), seals its final blob (thread
   * head: that entry) and a core that no longer names it, and forgets it: later requests for it are wallet_not_loaded
   * (one queued behind the drop too: handleAgentSign checks its wallet is still held). The blob rides with every core
   * until the host acknowledges it. If the wallet's seal fails it stays held (retry the drop); if the core's fails
   * after it, the wallet is dropped and the owed full seal carries the core without it and the final blob.
   */
  async dropWallet(address: string): Promise<{ result: ResultOf<'dropWallet'>; persist: Persist }> {
    const a = address.toLowerCase(), agents = this.wallet(a).agents.keys()
    const tx = this.beginTx()
    tx.snapshot = true
    this.appendInfo(tx, 'wallet_dropped', { wallet: a })
    const [version, walletSeq] = [this.state.walletVersion(a), this.audit.thread(a).walletSeq]
    const blob = await this.sealWallet(a, this.audit.head(), this.replay.ids.encodedFor(agents, 200_000, this.replay.ids.newestAdmitted(200_000)))
    this.state.apply({ type: 'wallet_dropped', wallet: a })
    this.audit.setThread(a, undefined)
    this.walletSeals.delete(a)
    this.carried.delete(a)
    this.dropped.set(a, { version, digest: sha256(blob) })
    this.unackedWallets.set(a, { wallet: a, version, blob, at: this.state.version + 1 }) // with the next core, even if this one's seal fails
    const persist = await this.finishTx(tx) // a full seal: the core without it, the final blob beside it (unacknowledged)
    return { result: { wallet: a, version, walletSeq }, persist }
  }

  wallet(address: string): WalletView {
    return this.state.wallet(address)
  }
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest()
}

/** The bytes a sealed snapshot adds to a frame: the core blob and its wallet blobs. */
function sealedBytes(s: Sealed): number {
  return s.blob.length + (s.wallets ?? []).reduce((n, w) => n + w.blob.length, 0)
}
