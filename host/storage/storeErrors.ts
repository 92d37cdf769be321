/** A persist block holds an entry whose hash differs from the one stored at its seq: two chains, refused. */
export class AuditForkError extends Error {
  constructor(
    readonly seq: number,
    readonly storedHash: string,
    readonly hash: string,
  ) {
    super(`audit fork at seq ${seq}: stored ${storedHash}, offered ${hash}`)
  }
}

/**
 * The database refused a persist block: this host's lease epoch is no longer the current one (another host took the
 * wallet group) or it expired. Nothing of the block was stored; whatever the enclave answered must not be released.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly group: string,
    readonly epoch: number,
  ) {
    super(`lease on wallet group ${group} at epoch ${epoch} is no longer held: persist refused`)
  }
}

/**
 * Per-wallet leases (issue 15 step 4): the database refused a persist block because a wallet it names is not leased
 * to this host at the epoch the host carries (another host took it, or the lease expired). Nothing was stored.
 */
export class WalletLeaseLostError extends LeaseLostError {
  constructor(readonly wallets: string[]) {
    super('(per wallet)', -1)
    this.message = `wallet lease of ${wallets.join(', ') || 'a wallet'} is no longer held: persist refused`
  }
}

/** A stored row names another that is not stored (nothing in bursar deletes either): the store was changed outside it. */
export class StoreDamagedError extends Error {}

/** The store was migrated by a newer bursar (rows this one could misread): it is not opened. */
export class StoreTooNewError extends Error {}
