import { MAX_OWNERS } from '../../shared/owner/ownerActTypes.js'
import { CREATE_WINDOW_MS } from '../../shared/owner/ownerLimits.js'
import type { OwnerActBody } from '../../shared/protocol/messages.js'
import { ownerActSigner } from './ownerActSigner.js'

/** What the enclave says of a wallet (getWallets' WalletInfo): its address and its owners. */
export type OwnedWallet = { address: string; ownerSeq?: number; governance: { owners: readonly string[] } }
/**
 * Where the enclave's owners are read: `epoch` changes with each enclave connection (a new one: reseed), `read` is a
 * getWallets (null: not read now; the next act tries again).
 */
export type OwnersSource = { epoch(): number; read(): Promise<readonly OwnedWallet[] | null> }
/** What an act names, read from its unsigned body: the wallet it acts on ('' for a CreateWallet) and, for a new wallet, its owner. */
export type Named = { wallet: string; owner: string }
/** owners40: how old the enclave's view may be before the next act reads it again, how long an act waits for a read, the clock. */
export type KnownOwnersOptions = { maxAgeMs?: number; waitMs?: number; firstWaitMs?: number; now?: () => number }

/** Wallets remembered (the enclave holds at most 32; the rest are wallets acts applied to here, e.g. loaded and dropped since). */
const MAX_WALLETS = 4_096
/**
 * owners40: the enclave's view is read again when it is older than this (what scope38's signedByOwner gave): an owner
 * added or removed outside this relay (another host on the enclave, an act applied before a restart) is seen within
 * about this long, not only at the next connection.
 */
export const OWNERS_MAX_AGE_MS = 1_000
/** owners40: how long acts wait for one refresh (getWallets) before they are placed by what is known (the read counts as failed). */
export const OWNERS_READ_WAIT_MS = 2_000
/**
 * How long acts wait for a connection's first read (nothing known from this connection yet: after a host restart the
 * owners are known only from it), as lanes39 waited for its seed; a loaded machine can take seconds to answer.
 */
export const OWNERS_FIRST_READ_WAIT_MS = 10_000

/**
 * UNTRUSTED, host-only (rt38, rt38b; lanes39: reseeded; owners40: the one owner cache): who this host knows as an owner
 * of each wallet: what the enclave said (getWallets, read before the first act of a connection is placed, so a host
 * restart or an enclave reconnect does not forget them, and again by the first act that finds the view older than
 * OWNERS_MAX_AGE_MS), then the signers of acts that applied through this host and the owner set a SetOwners' answer
 * names. Only the order of the host's own relay queue reads it (host/enclave/relayOwnerAct.ts, one `prefers` per act);
 * the signer and governance verify every act.
 */
export class KnownOwners {
  /** Wallet (lowercase) → its known owners (lowercase), oldest first. */
  private readonly wallets = new Map<string, Set<string>>()
  /** Owner → how many of those wallets list it (a CreateWallet/ImportWallet signed by one runs preferred). */
  private readonly owners = new Map<string, number>()
  /** rt39: wallet → its owner sequence as last read or applied here (an act at or below it is a replay, not preferred). */
  private readonly seqs = new Map<string, number>()
  /** rt39: nonces of new wallets' acts applied here (→ issuedAt), kept two windows (the enclave remembers them as long). */
  private readonly nonces = new Map<string, number>()
  /** The last view read: its connection, when its read was sent, and that read's number (null: none read yet). */
  private view: { epoch: number; at: number; n: number } | null = null
  /** The read the acts wait for (one at a time, shared by the acts waiting for it) until it answers or its wait ends. */
  private reading: { waited: Promise<void> } | null = null
  /**
   * rt40: what applied here since each unanswered read was sent, one journal per read (also one whose wait ended: its
   * late answer is still the enclave's view when it was sent, so it is taken with its journal replayed over it, unless a
   * later read's answer was taken first). Before, a late answer was dropped: with every read slower than waitMs (an
   * enclave kept busy) the view never changed again, a removed owner stayed preferred and a new one waited with strangers.
   */
  private readonly journals = new Set<Array<() => void>>()
  private reads = 0
  /** Set while a view is taken and its journal replayed: both are in every later read's view or journal already. */
  private replaying = false
  private journal(learn: () => void): void {
    if (!this.replaying) for (const j of this.journals) j.push(learn)
  }
  private readonly maxAgeMs: number
  private readonly waitMs: number
  private readonly firstWaitMs: number
  private readonly now: () => number

  constructor(
    private readonly source: OwnersSource | null = null,
    options: KnownOwnersOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? OWNERS_MAX_AGE_MS
    this.waitMs = options.waitMs ?? OWNERS_READ_WAIT_MS
    this.firstWaitMs = options.firstWaitMs ?? options.waitMs ?? OWNERS_FIRST_READ_WAIT_MS
    this.now = options.now ?? Date.now
  }

  /**
   * Resolves once the enclave's view is fresh: read at this connection and at most maxAgeMs ago, else read now (one
   * getWallets in flight, shared by the acts waiting for it). Never rejects, and resolves within waitMs (firstWaitMs for a
   * connection's first read): a read that
   * fails or has not answered by then counts as failed (what was known stays; the next act reads again). rt40: a late
   * answer is still taken when it comes, unless a later read's came first. Without a source: at once.
   */
  ready(): Promise<void> {
    const source = this.source
    if (!source) return Promise.resolve()
    if (this.reading) return this.reading.waited
    const epoch = source.epoch()
    if (this.view?.epoch === epoch && this.now() - this.view.at <= this.maxAgeMs) return Promise.resolve()
    const [at, n] = [this.now(), ++this.reads]
    const waitMs = this.view?.epoch === epoch ? this.waitMs : this.firstWaitMs
    let timer: NodeJS.Timeout | undefined
    const reading: { waited: Promise<void> } = { waited: Promise.resolve() }
    const learnt: Array<() => void> = []
    this.journals.add(learnt)
    const take = (ws: readonly OwnedWallet[] | null) => {
      this.journals.delete(learnt)
      if (!ws || (this.view !== null && this.view.n > n)) return // failed, or a later read's view was taken already
      this.replaying = true // neither the view nor the replay goes into other reads' journals (a newer read's is newer)
      try {
        this.seed(ws)
        for (const learn of learnt) learn() // applied here after the read was sent: the view may predate it
      } finally {
        this.replaying = false
      }
      this.view = { epoch, at, n }
    }
    const answered = source.read().catch(() => null).then(take)
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs)
      timer.unref?.()
    })
    this.reading = reading
    reading.waited = Promise.race([answered, timedOut]).then(() => {
      clearTimeout(timer)
      if (this.reading === reading) this.reading = null // answered, or waited for long enough: the next act reads again
    })
    return reading.waited
  }

  /** The enclave's view replaces what was known (a removed owner, a dropped wallet are forgotten). */
  seed(wallets: readonly OwnedWallet[]): void {
    this.wallets.clear()
    this.owners.clear()
    this.seqs.clear()
    for (const w of wallets) {
      this.set(w.address, w.governance.owners)
      if (w.ownerSeq !== undefined) this.applied(w.address, w.ownerSeq)
    }
  }

  /** rt39: a new wallet's act applied here (its nonce and issuedAt): a replay of it is not preferred. */
  created(nonce: string, issuedAt: number, now = this.now()): void {
    for (const [n, at] of this.nonces) {
      if (at >= now - 2 * CREATE_WINDOW_MS && this.nonces.size < MAX_WALLETS) break
      this.nonces.delete(n) // oldest first (issuedAt is within a window of its arrival): expired, or past the bound
    }
    this.nonces.set(nonce.toLowerCase(), issuedAt)
  }

  /**
   * rt39: an act applied to `wallet` here, its owner sequence now `ownerSeq` (kept only for a wallet known here). `anew`:
   * a new wallet's act (an exported wallet imported back starts again from 0), else the sequence only grows.
   */
  applied(wallet: string, ownerSeq: number, anew = false): void {
    this.journal(() => this.applied(wallet, ownerSeq, anew))
    const w = wallet.toLowerCase()
    if (this.wallets.has(w)) this.seqs.set(w, anew ? ownerSeq : Math.max(ownerSeq, this.seqs.get(w) ?? 0))
  }

  /** A wallet's owners as an applied SetOwners' answer names them (replacing the known ones). */
  set(wallet: string, owners: readonly string[]): void {
    this.journal(() => this.set(wallet, owners))
    this.forget(wallet.toLowerCase())
    for (const o of owners) this.addOwner(wallet, o)
  }

  /** One more known owner of `wallet` (the signer of an act that applied to it here). */
  add(wallet: string, owner: string): void {
    this.journal(() => this.add(wallet, owner))
    this.addOwner(wallet, owner)
  }

  private addOwner(wallet: string, owner: string): void {
    const w = wallet.toLowerCase()
    const o = owner.toLowerCase()
    const listed = this.wallets.get(w) ?? new Set<string>()
    this.wallets.delete(w)
    this.wallets.set(w, listed) // newest last: the oldest wallet is the one evicted
    if (!listed.has(o)) {
      listed.add(o)
      this.owners.set(o, (this.owners.get(o) ?? 0) + 1)
    }
    if (listed.size > 2 * MAX_OWNERS) this.drop(listed, listed.values().next().value!)
    if (this.wallets.size > MAX_WALLETS) this.forget(this.wallets.keys().next().value!)
  }

  /**
   * The act's signer if it runs preferred, else null: signed by a known owner of the wallet it names, or (a
   * CreateWallet or ImportWallet) by the owner it names, who owns a wallet here. The signature is recovered only when
   * the named wallet or owner is known (a flood naming made-up ones costs no recovery).
   */
  async prefers(body: OwnerActBody, named: Named): Promise<string | null> {
    const listed = this.wallets.get(named.wallet)
    const newWallet = (body.primaryType === 'CreateWallet' || body.primaryType === 'ImportWallet') && this.owners.has(named.owner)
    if (!listed && !newWallet) return null
    const act = await ownerActSigner(body)
    if (!act) return null
    // rt39: an owner's act already applied (its seq at or below the wallet's), replayed by whoever saw it, is a stranger's.
    if (act.seq !== null && act.seq <= (this.seqs.get(named.wallet) ?? -1)) return null
    // rt39: a new wallet's act outside the enclave's window, or applied here already (an owner's CreateWallet replayed
    // held the claim on its wallet and sent the owner's next one to the strangers' FIFO) is a stranger's.
    if (act.issuedAt !== null && (Math.abs(this.now() - act.issuedAt) > CREATE_WINDOW_MS || this.nonces.has(act.nonce!))) return null
    return listed?.has(act.signer) || (newWallet && act.signer === named.owner) ? act.signer : null
  }

  /**
   * rt39: the wallets `owner` (lowercase) is known to own, oldest first (a preferred CreateWallet/ImportWallet claims
   * one of them while it waits or runs: relayOwnerAct.ts). Read only for a key that owns one (`owners` says so first).
   */
  walletsOf(owner: string): string[] {
    if (!this.owners.has(owner)) return []
    const found: string[] = []
    for (const [w, listed] of this.wallets) if (listed.has(owner)) found.push(w)
    return found
  }

  private forget(wallet: string): void {
    const listed = this.wallets.get(wallet)
    if (!listed) return
    for (const o of listed) this.drop(listed, o)
    this.wallets.delete(wallet)
    this.seqs.delete(wallet)
  }

  private drop(listed: Set<string>, owner: string): void {
    listed.delete(owner)
    const n = (this.owners.get(owner) ?? 1) - 1
    if (n > 0) this.owners.set(owner, n)
    else this.owners.delete(owner)
  }
}
