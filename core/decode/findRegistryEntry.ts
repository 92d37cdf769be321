import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'
import { type SignDenial, deny } from './signingPlan.js'

/** `domain` is the typed data's: its name and version must be the entry's, and it has no salt (no entry names one). */
export type FindRegistryEntryParameters = { registry: readonly TokenRegistryEntry[]; chainId: number; asset: string; domain: { name?: string; version?: string; salt?: string } }

/**
 * Looks up the registry entry for (chainId, asset), comparing addresses
 * case-insensitively; two entries for one token that disagree are ambiguous.
 * SECURITY: the domain comes from the registry; a domain with another name or
 * version, or with a salt (hashed, yet in no decoded action), is refused, never "corrected".
 */
export function findRegistryEntry({ registry, chainId, asset, domain }: FindRegistryEntryParameters): { ok: true; entry: TokenRegistryEntry } | SignDenial {
  const want = asset.toLowerCase()
  let found: TokenRegistryEntry | undefined
  for (const e of registry) {
    if (e.chainId !== chainId || e.asset.toLowerCase() !== want) continue
    if (found && (found.name !== e.name || found.version !== e.version)) return deny('sign_registry_ambiguous', `Registry has conflicting entries for ${asset}`)
    found = e
  }
  if (!found) return deny('sign_domain_not_in_registry', `Token ${asset} on chain ${chainId} is not in the registry`)
  if (domain.name !== found.name || domain.version !== found.version || domain.salt !== undefined) {
    return deny('sign_domain_mismatch', `Domain name/version (or a salt) differ from the registry entry for ${asset}`)
  }
  return { ok: true, entry: found }
}
