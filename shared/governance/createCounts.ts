import { OWNER_LIMITS } from '../owner/ownerLimits.js'
import type { Admission } from '../owner/parseAdmission.js'
import type { OwnerActView } from './ownerActView.js'

/**
 * CreateWallet's (and a new ImportWallet's) counts in a view: the create nonces, the wallets (all, `owner`'s) and the
 * owner's admission. SECURITY (rt36a, create37): the signer counts again when the decision comes back (createStillFits).
 */
export function createCounts(wallets: Iterable<{ owner: string }>, createNonces: Iterable<[string, number]>, admission: Admission, owner: string): NonNullable<OwnerActView['create']> {
  let [total, mine] = [0, 0]
  for (const w of wallets) [total, mine] = [total + 1, mine + (w.owner.toLowerCase() === owner ? 1 : 0)]
  return { createNonces: [...createNonces], walletsTotal: total, ownerWallets: mine, admitted: admission.owners.has(owner), allowlist: admission.kind === 'allowlist' }
}

/**
 * SECURITY (create37): a create decision still applies if, counted now, its nonce is unused, the owner's admission is
 * the view's, and one more wallet keeps the owner, the enclave and the live creates within OWNER_LIMITS; else the
 * signer answers governance_stale (a new view then meets governance's own refusal: replayed, or the limit's code).
 * Creates by others since the view no longer matter. The signer runs this and adds the wallet in one synchronous
 * stretch of its single writer, so two concurrent creates are counted one after the other, never both below a limit.
 */
export function createStillFits(now: ReturnType<typeof createCounts>, view: { admitted: boolean; allowlist: boolean }, step: { nonce: string; pruneBefore: number }, newestPruned: number): boolean {
  // rt37c: a nonce this decision counts as live that a later create pruned cannot be checked (a held twin, a clock set back): stale.
  if (newestPruned >= step.pruneBefore) return false
  const live = now.createNonces.filter(([, t]) => t >= step.pruneBefore)
  return now.admitted === view.admitted && now.allowlist === view.allowlist && !live.some(([n]) => n === step.nonce) &&
    now.walletsTotal < OWNER_LIMITS.walletsTotal && now.ownerWallets < OWNER_LIMITS.walletsPerOwner && live.length < OWNER_LIMITS.createNonces
}
