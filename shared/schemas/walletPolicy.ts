import * as z from 'zod'
import { CapSchema, PolicyShapeSchema, parseWith } from './policyShape.js'

/**
 * The owner-signed wallet-level policy: limits that hold across all of a wallet's agents together, on top of
 * each agent's own policy. Like the agent policy, parsing is the identity on valid input (strict, no defaults),
 * so the hash of the parsed object (`policyHash`) is what the owner signed (`SetWalletPolicy`).
 */
export const WalletPolicySchema = z
  .strictObject({
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    wallet: PolicyShapeSchema.shape.wallet,
    description: z.string().max(1000).optional(),
    /** For calendar-day wallet caps. */
    timeZone: PolicyShapeSchema.shape.timeZone,
    /** Wallet-wide caps per (chain, asset) on the sum of every agent's spends (and live permit holds). */
    budgets: z.array(CapSchema).max(64),
  })
  .refine((p) => new Set(p.budgets.map((b) => `${b.chainId}:${b.asset.toLowerCase()}`)).size === p.budgets.length, {
    message: 'duplicate wallet budget for a (chainId, asset)',
    path: ['budgets'],
  })
export type WalletPolicy = z.infer<typeof WalletPolicySchema>

/** Parses wallet-policy JSON (text or value); throws PolicyInvalidError listing every issue. */
export function parseWalletPolicy(json: unknown): WalletPolicy {
  return parseWith(WalletPolicySchema, json)
}
