import { OWNER_ACT_TYPES, OWNER_DOMAIN, type OwnerActType } from './ownerActTypes.js'

/** Builds the exact EIP-712 definition an owner signs for an act (JSON message → viem typed data, uints as bigint). */
export function ownerTypedData(primaryType: OwnerActType, message: Record<string, unknown>) {
  const fields = OWNER_ACT_TYPES[primaryType]
  const typed: Record<string, unknown> = {}
  for (const f of fields) {
    const v = message[f.name]
    typed[f.name] = f.type.startsWith('uint') ? BigInt(v as string) : v
  }
  return {
    domain: OWNER_DOMAIN,
    types: { [primaryType]: fields } as Record<string, readonly { name: string; type: string }[]>,
    primaryType,
    message: typed,
  } as const
}
