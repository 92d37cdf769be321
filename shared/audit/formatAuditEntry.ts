import type { AuditEntry } from './auditEntry.js'

/**
 * One human-readable line per entry (for `bursar audit tail` and logs). The
 * agent's reason is JSON-quoted so control characters cannot forge lines.
 */
export function formatAuditEntry(entry: AuditEntry): string {
  const a = (entry.action ?? {}) as Record<string, unknown>
  const parts = [`#${entry.seq}`, new Date(entry.time).toISOString(), entry.event, entry.verdict]
  if (entry.agentId) parts.push(`agent ${entry.agentId}`)
  if (entry.wallet) parts.push(`wallet ${entry.wallet}`)
  if (entry.action) {
    const amount = a.amount ?? a.value
    const to = a.payTo ?? a.spender ?? a.to ?? a.verifyingContract
    parts.push(`${String(a.kind)}${amount === undefined ? '' : ` ${String(amount)}`}${a.asset ? ` of ${String(a.asset)}` : ''}${to ? ` → ${String(to)}` : ''}${a.chainId ? ` on chain ${String(a.chainId)}` : ''}`)
  }
  if (entry.resourceUrl) parts.push(`for ${JSON.stringify(entry.resourceUrl)}`)
  if (entry.reason) parts.push(`reason ${JSON.stringify(entry.reason)}`)
  if (entry.rule || entry.code) parts.push(`[${[entry.rule, entry.code].filter(Boolean).join(' / ')}]`)
  if (entry.policy) parts.push(`policy v${entry.policy.version}`)
  return parts.join('  ')
}
