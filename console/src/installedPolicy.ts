/**
 * The installed policy of an agent as the console may use it: the policy text the (untrusted) host served,
 * accepted only when it hashes to the hash the wallet view names, is bound to this wallet and agent, carries
 * that version, and agrees with the newest policy the owner's audit entries record for the agent. Everything
 * the owner signs from it (the policy editor's baseline and diff, a permit's token, asset and decimals) would
 * otherwise be whatever the host chose to show: the wallet prompt shows only a policy hash and base units.
 */
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import { type Policy, PolicySchema, policyHash } from '../../shared/schemas/policy.js'

type Agent = WalletInfo['agents'][number]
export type InstalledPolicy = { ok: true; policy: Policy | null } | { ok: false; reason: string }

export function installedPolicy(wallet: string, a: Agent, entries: readonly Pick<AuditEntry, 'agentId' | 'policy' | 'event'>[]): InstalledPolicy {
  // The newest policy_set entry for the agent names the policy it installed (a scheduled widening is a different event).
  const recorded = [...entries].reverse().find((e) => e.agentId === a.agentId && e.event === 'policy_set' && e.policy)?.policy ?? null
  if (!a.policy) return { ok: true, policy: null }
  let parsed: Policy
  try {
    const r = PolicySchema.safeParse(JSON.parse(a.policy.json))
    if (!r.success) return { ok: false, reason: 'the served policy text does not parse' }
    parsed = r.data
  } catch {
    return { ok: false, reason: 'the served policy text is not JSON' }
  }
  if (policyHash(parsed).toLowerCase() !== a.policy.hash.toLowerCase()) return { ok: false, reason: 'the served policy text does not hash to the installed policy hash' }
  if (parsed.version !== a.policy.version) return { ok: false, reason: 'the served policy version differs from its text' }
  if (parsed.wallet.toLowerCase() !== wallet.toLowerCase() || parsed.agentId !== a.agentId) return { ok: false, reason: 'the served policy is bound to another wallet or agent' }
  // An older version than the log records is a rollback the host shows; the same version must be the same policy.
  // (A newer version than the entries held is a set the console has not read yet.)
  if (recorded && (recorded.version > a.policy.version || (recorded.version === a.policy.version && recorded.hash.toLowerCase() !== a.policy.hash.toLowerCase())))
    return { ok: false, reason: `the audit log records policy v${recorded.version} ${recorded.hash.slice(0, 10)}…, the host shows v${a.policy.version}` }
  return { ok: true, policy: parsed }
}
