import type { PolicyRule } from '../../../shared/schemas/policy.js'
import type { Check, EvalContext } from '../evalTypes.js'
import type { PolicyCode } from '../policyCodes.js'
import { hostMatches } from './hostMatches.js'
import { matchSet } from './matchSet.js'

type Field = { code: PolicyCode; label: string; values: (c: EvalContext, excluding: boolean) => (string | number)[] }

/** In check order: the most specific predicates come last, so a deny rule reports its most specific code. */
const FIELDS = {
  chains: { code: 'policy_chain_not_allowed', label: 'chain', values: (c) => (c.facts.chainId === null ? [] : [c.facts.chainId]) },
  assets: { code: 'policy_asset_not_allowed', label: 'token contract', values: (c) => c.facts.tokens },
  // SECURITY: an excluded payee (listed in a deny rule, or in an allow rule's notIn) must not become a spender either
  // (approve, increaseAllowance, permits, Permit2). An allow rule's `in` list stays the payees (allowances need `spenders`).
  payTo: { code: 'policy_payto_not_allowed', label: 'pay-to', values: (c, excluding) => (excluding ? [...c.facts.payees, ...c.facts.spenders] : c.facts.payees) },
  hosts: { code: 'policy_host_not_allowed', label: 'resource host', values: (c) => (c.host === null ? [] : [c.host]) },
  spenders: { code: 'policy_spender_not_allowed', label: 'spender', values: (c) => c.facts.spenders },
  contracts: { code: 'policy_contract_not_allowed', label: 'contract', values: (c) => (c.facts.contract ? [c.facts.contract.to] : []) },
  selectors: { code: 'policy_selector_not_allowed', label: 'selector', values: (c) => (c.facts.contract ? [c.facts.contract.selector] : []) },
} satisfies Record<string, Field>
export const SET_NAMES = Object.keys(FIELDS) as (keyof typeof FIELDS)[]

function eq(a: string | number, b: string | number): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b
}

/** Evaluates a rule's allow/deny-list predicates over the action's facts (chains, tokens, payees, hosts, spenders, contracts, selectors). */
export function checkSetPredicates(rule: PolicyRule, ctx: EvalContext, full: boolean): Check[] {
  const out: Check[] = []
  const mode = rule.effect
  for (const name of SET_NAMES) {
    const set = rule[name]
    if (!set) continue
    const f: Field = FIELDS[name]
    const vs = f.values(ctx, mode === 'deny' || 'notIn' in set)
    const ok =
      name === 'hosts'
        ? matchSet(set as { in: string[] } | { notIn: string[] }, vs as string[], mode, (p, h) => hostMatches(p, h))
        : matchSet<string | number>(set, vs, mode, eq)
    const listed = 'in' in set ? 'in' : 'notIn'
    out.push({
      name,
      ok,
      // Allow rules deny when a predicate fails; deny rules deny when it holds.
      ...(ok === (mode === 'deny') ? { code: f.code } : {}),
      message: `${f.label} ${vs.length ? vs.join(', ') : '(none)'} ${ok ? 'satisfies' : 'fails'} ${listed} list`,
    })
    if (!ok && !full) break
  }
  return out
}
