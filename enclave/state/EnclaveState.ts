import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { applyLedgerEvent } from '../../core/ledger/applyLedgerEvent.js'
import { applyWalletChange } from '../../core/owner/applyWalletChange.js'
import type { StateChange, WalletRecord, WalletView } from '../../core/state/stateTypes.js'

/**
 * TRUST: the enclave's sealed state (its version, the wallets, recent CreateWallet nonces). The fields are private:
 * handlers read views and change the state only through `apply`, inside the single writer, with changes the pure
 * core computed. Every change naming a wallet bumps that wallet's version and marks it for the next seal (issue 15:
 * each wallet is sealed as its own blob, only when it changed).
 */
export class EnclaveState {
  private stateVersion = 0
  private readonly records = new Map<string, WalletRecord>()
  private readonly nonces = new Map<string, number>()
  /** rt37c: the newest issuedAt a create pruned (in memory: outstanding views do not outlive the process). */
  private pruned = -Infinity
  private readonly versions = new Map<string, number>()
  private readonly changed = new Set<string>()
  /** Wallets dropped (issue 15 step 3): a request naming one is wallet_not_loaded, not wallet_not_found. */
  private readonly dropped = new Set<string>()
  /** Read-only views of the private maps. */
  readonly wallets: ReadonlyMap<string, WalletView> = this.records
  readonly createNonces: ReadonlyMap<string, number> = this.nonces

  get newestPruned(): number {
    return this.pruned
  }

  get version(): number {
    return this.stateVersion
  }

  wallet(address: string): WalletView {
    return this.record(address)
  }

  /** A wallet's version: bumped by every change that names it. */
  walletVersion(address: string): number {
    return this.versions.get(address.toLowerCase()) ?? 0
  }

  /** The wallets changed since the last call (lower-case addresses): what the next seal re-seals. */
  takeChanged(): string[] {
    const out = [...this.changed]
    this.changed.clear()
    return out
  }

  /**
   * Marks wallets for the next seal: again (a seal that was not sent), or with `bump` at a new version (a re-seal
   * after a load: every blob a store keeps has its own (wallet, version)).
   */
  markChanged(addresses: readonly string[], bump = false): void {
    for (const a of addresses) {
      this.changed.add(a)
      if (bump) this.versions.set(a, (this.versions.get(a) ?? 0) + 1)
    }
  }

  /** The one mutator. A ledger event that is illegal here throws (LedgerInvariantError); the caller halts. */
  apply(c: StateChange): void {
    this.change(c)
    if (c.type === 'loaded' || c.type === 'version_bumped' || c.type === 'wallet_dropped') return
    const a = (c.type === 'wallet_created' || c.type === 'wallet_added' ? c.wallet.address : c.wallet).toLowerCase()
    this.versions.set(a, (this.versions.get(a) ?? 0) + 1)
    this.changed.add(a)
  }

  private change(c: StateChange): void {
    switch (c.type) {
      case 'loaded':
        this.stateVersion = c.stateVersion
        this.records.clear()
        for (const w of c.wallets) this.records.set(w.address.toLowerCase(), w)
        this.nonces.clear()
        for (const [n, t] of c.createNonces) this.nonces.set(n, t)
        this.versions.clear()
        this.changed.clear()
        this.dropped.clear()
        for (const [a, v] of c.versions ?? []) this.versions.set(a.toLowerCase(), v)
        return
      case 'version_bumped':
        this.stateVersion++
        return
      case 'wallet_created':
        for (const [n, t] of this.nonces) if (t < c.pruneBefore) this.nonces.delete(n), (this.pruned = Math.max(this.pruned, t))
        this.nonces.set(c.nonce, c.issuedAt)
        this.records.set(c.wallet.address.toLowerCase(), c.wallet)
        return
      case 'wallet_added': // its version continues the blob's (apply bumps it: the next seal writes a new one)
        this.records.set(c.wallet.address.toLowerCase(), c.wallet), this.versions.set(c.wallet.address.toLowerCase(), c.version), this.dropped.delete(c.wallet.address.toLowerCase())
        return
      case 'wallet_dropped':
        for (const m of [this.records, this.versions]) m.delete(c.wallet)
        this.changed.delete(c.wallet), this.dropped.add(c.wallet)
        return
      case 'wallet_changed':
        applyWalletChange(this.record(c.wallet), c.change)
        return
      case 'ledger': {
        const ledger = this.record(c.wallet).ledger
        for (const e of c.events) applyLedgerEvent(ledger, e, c.built)
        return
      }
      case 'owner_seq': {
        const w = this.record(c.wallet)
        w.ownerSeq = c.ownerSeq
        w.rolledBack = c.rolledBack
        return
      }
    }
  }

  private record(address: string): WalletRecord {
    const w = this.records.get(address.toLowerCase())
    if (!w) throw new EnclaveError(this.dropped.has(address.toLowerCase()) ? 'wallet_not_loaded' : 'wallet_not_found', `No wallet ${address} in this enclave`)
    return w
  }
}
