import type { DecisionStep, GovernanceDecision } from './decisionSchema.js'

type Change = Extract<DecisionStep, { type: 'wallet_changed' }>['change']
/** What only some acts change; everything else a wallet act may carry (due loosenings and held acts, proposals, the seq). */
const OWN: Partial<Record<Change['type'], readonly string[]>> = {
  agent_registered: ['RegisterAgent'],
  policy_set: ['SetPolicy'],
  wallet_policy_set: ['SetWalletPolicy'],
  scheduled: ['SetPolicy', 'SetWalletPolicy'],
  policy_revoked: ['RevokePolicy'],
  agent_revoked: ['RevokeAgent'],
}
/** Audit events of the agent path only: a decision writing one would put its requestId in the agent replay index. */
const AGENT_EVENTS: ReadonlySet<string> = new Set(['sign_allowed', 'sign_denied', 'sign_pending'])

/**
 * SECURITY (issue 12 stage B; rt34a's leftover): each step of a decision must be one its act can make — an AddAgent
 * decision cannot carry a key export, a policy install, an owner-set change or an exit. Returns why not, or null.
 */
export function stepsFitAct(d: GovernanceDecision): string | null {
  const act = d.act
  if (d.key === 'export' && act !== 'ExportKey') return `key operation export for ${act}`
  for (const s of d.steps) {
    if (s.type === 'audit') {
      if (AGENT_EVENTS.has(s.event)) return `audit event ${s.event} (the agent path's)`
      continue
    }
    if (s.type !== 'wallet_changed') continue
    const c = s.change
    const only = OWN[c.type]
    if (only && !only.includes(act)) return `${c.type} for ${act}`
    if (c.type !== 'governance_set') continue
    if (c.set.governance !== undefined && act !== 'SetOwners' && act !== 'SetApprovalQuorum') return `an owner-set change for ${act}`
    if (c.set.exit && act !== 'ExportKey') return `a key exit for ${act}`
    if (c.set.exit === null && act !== 'CancelScheduled' && act !== 'ImportWallet') return `an exit dropped by ${act}`
  }
  return null
}
