import { OWNER_LIMITS } from '../owner/ownerLimits.js'
import type { Admission } from '../owner/parseAdmission.js'
import type { OwnerActView } from './ownerActView.js'

/**
 * CreateWallet's (and a new ImportWallet's) counts for the owner it names (scope38: not every owner's nonces): the
 * create nonces issued at or after `pruneBefore` and whether `nonce` is one of them, the wallets (all, `owner`'s) and
 * the owner's admission, read from `state` (EnclaveState). SECURITY (rt36a, create37): the signer counts again when the decision comes back (createStillFits).
 */
export function createCounts(state: { wallets: { values(): Iterable<{ owner: string }> }; createNonces: Iterable<[string, number]> }, admission: Admission, owner: string, nonce: string, pruneBefore: number): NonNullable<OwnerActView['create']> {
  let [total, mine, live, used] = [0, 0, 0, false]
  for (const w of state.wallets.values()) [total, mine] = [total + 1, mine + (w.owner.toLowerCase() === owner ? 1 : 0)]
  for (const [n, t] of state.createNonces) if (t >= pruneBefore) [live, used] = [live + 1, used || n === nonce]
  return { liveNonces: live, nonceUsed: used, walletsTotal: total, ownerWallets: mine, admitted: admission.owners.has(owner), allowlist: admission.kind === 'allowlist' }
}

/**
 * SECURITY (create37): a create decision still applies if, counted now at its own `pruneBefore` and nonce, its nonce
 * is unused, the owner's admission is the view's, and one more wallet keeps the owner, the enclave and the live
 * creates within OWNER_LIMITS; else the signer answers governance_stale (a new view then meets governance's own
 * refusal: replayed, or the limit's code). Creates by others since the view no longer matter. The signer runs this
 * and adds the wallet in one synchronous stretch of its single writer, so two concurrent creates are counted one after
 * the other, never both below a limit.
 */
export function createStillFits(now: ReturnType<typeof createCounts>, view: { admitted: boolean; allowlist: boolean }, pruneBefore: number, newestPruned: number): boolean {
  // rt37c: a nonce this decision counts as live that a later create pruned cannot be checked (a held twin, a clock set back): stale.
  return newestPruned < pruneBefore && now.admitted === view.admitted && now.allowlist === view.allowlist && !now.nonceUsed &&
    now.walletsTotal < OWNER_LIMITS.walletsTotal && now.ownerWallets < OWNER_LIMITS.walletsPerOwner && now.liveNonces < OWNER_LIMITS.createNonces
}
