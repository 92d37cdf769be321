import * as z from 'zod'

/** One token a policy knows: the EIP-712 domain of a payment comes from here, never from a merchant. */
export const TokenRegistryEntrySchema = z.strictObject({
  chainId: z.number().int().positive(),
  asset: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  name: z.string().min(1).max(64),
  version: z.string().min(1).max(16),
  decimals: z.number().int().min(0).max(36),
  symbol: z.string().min(1).max(16).optional(),
})
export type TokenRegistryEntry = z.infer<typeof TokenRegistryEntrySchema>
