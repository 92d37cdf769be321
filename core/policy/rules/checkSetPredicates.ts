import type { PolicyRule } from '../../../shared/schemas/policy.js'
import type { Check, EvalContext } from '../evalTypes.js'
import type { PolicyCode } from '../policyCodes.js'
import { hostMatches } from './hostMatches.js'
import { matchSet } from './matchSet.js'

type SetName = 'chains' | 'assets' | 'payTo' | 'hosts' | 'spenders' | 'contracts' | 'selectors'
type Field = { code: PolicyCode; label: string; value: (c: EvalContext) => string | number | null }

const lower = (s: string) => s.toLowerCase()
const FIELDS: Record<SetName, Field> = {
  chains: {
    code: 'policy_chain_not_allowed',
    label: 'chain',
    value: (c) => (c.action.kind === 'raw_message' ? null : c.action.chainId),
  },
  assets: {
    code: 'policy_asset_not_allowed',
    label: 'token contract',
    value: (c) => ('asset' in c.action ? lower(c.action.asset) : null),
  },
  payTo: { code: 'policy_payto_not_allowed', label: 'pay-to', value: (c) => c.spend?.payTo ?? null },
  hosts: { code: 'policy_host_not_allowed', label: 'resource host', value: (c) => c.host },
  spenders: {
    code: 'policy_spender_not_allowed',
    label: 'approve spender',
    value: (c) => (c.action.kind === 'erc20_approve' ? lower(c.action.spender) : null),
  },
  contracts: {
    code: 'policy_contract_not_allowed',
    label: 'contract',
    value: (c) => (c.action.kind === 'contract_call' ? lower(c.action.to) : null),
  },
  selectors: {
    code: 'policy_selector_not_allowed',
    label: 'selector',
    value: (c) => (c.action.kind === 'contract_call' ? lower(c.action.selector) : null),
  },
}
/** Order matters: the most specific predicates come last, so a deny rule reports its most specific code. */
export const SET_NAMES: readonly SetName[] = ['chains', 'assets', 'payTo', 'hosts', 'spenders', 'contracts', 'selectors']

function eq(a: string | number, b: string | number): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b
}

/** Evaluates a rule's allow/deny-list predicates (chains, token contracts, pay-to, hosts, spenders, contracts, selectors). */
export function checkSetPredicates(rule: PolicyRule, ctx: EvalContext, full: boolean): Check[] {
  const out: Check[] = []
  const mode = rule.effect
  for (const name of SET_NAMES) {
    const set = rule[name]
    if (!set) continue
    const f = FIELDS[name]
    const v = f.value(ctx)
    const ok =
      name === 'hosts'
        ? matchSet(set as { in: string[] } | { notIn: string[] }, v as string | null, mode, (p, h) => hostMatches(p, h))
        : matchSet<string | number>(set, v, mode, eq)
    const listed = 'in' in set ? 'in' : 'notIn'
    out.push({
      name,
      ok,
      // Allow rules deny when a predicate fails; deny rules deny when it holds.
      ...(ok === (mode === 'deny') ? { code: f.code } : {}),
      message: `${f.label} ${v ?? '(none)'} ${ok ? 'satisfies' : 'fails'} ${listed} list`,
    })
    if (!ok && !full) break
  }
  return out
}
