import type * as z from 'zod'
import { canonicalHash } from '../canonical/canonicalJson.js'
import { type AllowRuleSchema, type Policy, PolicyShapeSchema, parseWith } from './policyShape.js'

export * from './policyShape.js'
/** An allow rule (governance's widening check compares them; the signer reads rules through the policy's type). */
export type AllowRule = z.infer<typeof AllowRuleSchema>

/**
 * An owner-signed policy: its shape (policyShape.ts) and the rules across its fields. Parsing is the identity on
 * valid input (no defaults, no transforms, no coercion), so the hash of the parsed object equals the hash the owner
 * computed and signed. Governance parses every policy an owner installs with this schema.
 */
export const PolicySchema = PolicyShapeSchema
  .superRefine((p, ctx) => {
    dupes(p.rules.map((r) => r.id), ['rules'], 'rule id', ctx)
    dupes(p.tokens.map((t) => `${t.chainId}:${t.asset.toLowerCase()}`), ['tokens'], 'token', ctx)
    dupes(p.budgets.map((b) => `${b.chainId}:${b.asset.toLowerCase()}`), ['budgets'], 'budget', ctx)
    dupes((p.preApprovals ?? []).map((r) => r.id), ['preApprovals'], 'pre-approval id', ctx)
    p.rules.forEach((r, i) => {
      if (r.effect === 'allow' && r.kinds.includes('typed_data') && !r.typedData)
        ctx.addIssue({ code: 'custom', message: 'allowing typed_data requires typedData matchers', path: ['rules', i, 'typedData'] })
    })
  })

function dupes(keys: string[], path: (string | number)[], what: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>()
  keys.forEach((k, i) => {
    if (seen.has(k)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} ${k}`, path: [...path, i] })
    seen.add(k)
  })
}

/** Parses policy JSON (text or value); throws PolicyInvalidError listing every issue as `path: message`. */
export function parsePolicy(json: unknown): Policy {
  return parseWith(PolicySchema, json)
}

/** 0x + sha256 hex of the policy's canonical JSON: what the owner's SetPolicy act signs. */
export function policyHash(policy: Policy | object): `0x${string}` {
  return canonicalHash(policy)
}
