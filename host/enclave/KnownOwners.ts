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

/** Wallets remembered (the enclave holds at most 32; the rest are wallets acts applied to here, e.g. loaded and dropped since). */
const MAX_WALLETS = 4_096

/**
 * UNTRUSTED, host-only (rt38, rt38b; lanes39: reseeded): who this host knows as an owner of each wallet: what the
 * enclave said at the start of this connection (getWallets, read before the first act of a connection is placed, so a
 * host restart or an enclave reconnect does not forget them), then the signers of acts that applied through this host
 * and the owner set a SetOwners' answer names. Only the order of the host's own relay queue reads it
 * (host/enclave/relayOwnerAct.ts); the signer and governance verify every act.
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
  private seeded: { epoch: number; done: Promise<void> } | null = null

  constructor(private readonly source: OwnersSource | null = null) {}

  /**
   * Resolves once this connection's owners are read (one getWallets per connection, shared by the acts waiting for it;
   * a failed read is tried again by the next act). Without a source: at once.
   */
  ready(): Promise<void> {
    const source = this.source
    if (!source) return Promise.resolve()
    const epoch = source.epoch()
    if (this.seeded?.epoch === epoch) return this.seeded.done
    const seeded: { epoch: number; done: Promise<void> } = { epoch, done: Promise.resolve() }
    const failed = () => {
      if (this.seeded === seeded) this.seeded = null
    }
    seeded.done = source.read().then((ws) => (ws ? this.seed(ws) : failed()), failed)
    this.seeded = seeded
    return seeded.done
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
  created(nonce: string, issuedAt: number, now = Date.now()): void {
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
    const w = wallet.toLowerCase()
    if (this.wallets.has(w)) this.seqs.set(w, anew ? ownerSeq : Math.max(ownerSeq, this.seqs.get(w) ?? 0))
  }

  /** A wallet's owners as an applied SetOwners' answer names them (replacing the known ones). */
  set(wallet: string, owners: readonly string[]): void {
    this.forget(wallet.toLowerCase())
    for (const o of owners) this.add(wallet, o)
  }

  /** One more known owner of `wallet` (the signer of an act that applied to it here). */
  add(wallet: string, owner: string): void {
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
    if (act.issuedAt !== null && (Math.abs(Date.now() - act.issuedAt) > CREATE_WINDOW_MS || this.nonces.has(act.nonce!))) return null
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
