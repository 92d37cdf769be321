import type { Admission } from '../owner/parseAdmission.js'
import type { OwnerActView } from './ownerActView.js'

/**
 * CreateWallet's (and a new ImportWallet's) counts in a view: the create nonces, the wallets (all, `owner`'s) and the
 * owner's admission. SECURITY (rt36a): the signer counts again when the decision comes back; other counts (a create
 * landed since the view) are governance_stale, so concurrent views cannot each admit a wallet past the limits.
 */
export function createCounts(wallets: Iterable<{ owner: string }>, createNonces: Iterable<[string, number]>, admission: Admission, owner: string): NonNullable<OwnerActView['create']> {
  let [total, mine] = [0, 0]
  for (const w of wallets) [total, mine] = [total + 1, mine + (w.owner.toLowerCase() === owner ? 1 : 0)]
  return { createNonces: [...createNonces], walletsTotal: total, ownerWallets: mine, admitted: admission.owners.has(owner), allowlist: admission.kind === 'allowlist' }
}
