import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'

export type FindRegistryEntryParameters = { registry: readonly TokenRegistryEntry[]; chainId: number; asset: string }
export type FindRegistryEntryReturnType = { entry: TokenRegistryEntry } | { ambiguous: true } | undefined

/**
 * Looks up the registry entry for (chainId, asset), comparing addresses
 * case-insensitively; two entries for one token that disagree are ambiguous.
 */
export function findRegistryEntry({ registry, chainId, asset }: FindRegistryEntryParameters): FindRegistryEntryReturnType {
  const want = asset.toLowerCase()
  let found: TokenRegistryEntry | undefined
  for (const e of registry) {
    if (e.chainId !== chainId || e.asset.toLowerCase() !== want) continue
    if (found && (found.name !== e.name || found.version !== e.version)) return { ambiguous: true }
    found = e
  }
  return found ? { entry: found } : undefined
}
