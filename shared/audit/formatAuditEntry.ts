import { type AuditEntry, CHAIN_ID_REGEX } from './auditEntry.js'

/**
 * One human-readable line per entry (for `bursar audit tail` and logs). The
 * agent's reason is JSON-quoted so control characters cannot forge lines. `chain`: the entry's chain when not the
 * root (chains41: a cluster's chains share seqs), shown after its seq (JSON-quoted
 * when it is not a chain id: the host's label, untrusted).
 */
export function formatAuditEntry(entry: AuditEntry, chain?: string): string {
  const a = (entry.action ?? {}) as Record<string, unknown>
  const parts = [`#${entry.seq}${chain ? ` of chain ${CHAIN_ID_REGEX.test(chain) ? chain : JSON.stringify(chain)}` : ''}`, new Date(entry.time).toISOString(), entry.event, entry.verdict]
  if (entry.agentId) parts.push(`agent ${entry.agentId}`)
  if (entry.wallet) parts.push(`wallet ${entry.wallet}`)
  if (entry.action) {
    // batch-settlement: a voucher shows its running total and what it added over the channel's highest signed total.
    const amount = a.kind === 'batch_voucher' ? `running total ${String(a.total)} (+${BigInt(String(a.total)) > BigInt(String(a.signedBefore)) ? BigInt(String(a.total)) - BigInt(String(a.signedBefore)) : 0n})` : (a.amount ?? a.value)
    const to = a.payTo ?? a.receiver ?? a.spender ?? a.to ?? a.verifyingContract
    // x402 schemes by what was decoded: Permit2 through the exact proxy pays the witness's `to`; upto signs a maximum.
    const scheme = a.kind === 'upto' ? ' (x402 upto: at most)' : a.kind === 'permit2_transfer' && a.payTo ? ' (x402 exact via Permit2)' : a.kind === 'batch_deposit' ? ' (x402 batch-settlement escrow: locks)' : ''
    parts.push(`${String(a.kind)}${scheme}${amount === undefined ? '' : ` ${String(amount)}`}${a.asset ? ` of ${String(a.asset)}` : ''}${to ? ` → ${String(to)}` : ''}${a.facilitator ? ` settled by ${String(a.facilitator)}` : ''}${a.chainId ? ` on chain ${String(a.chainId)}` : ''}`)
  }
  if (entry.resourceUrl) parts.push(`for ${JSON.stringify(entry.resourceUrl)}`)
  if (entry.reason) parts.push(`reason ${JSON.stringify(entry.reason)}`)
  if (entry.rule || entry.code) parts.push(`[${[entry.rule, entry.code].filter(Boolean).join(' / ')}]`)
  if (entry.policy) parts.push(`policy v${entry.policy.version}`)
  return parts.join('  ')
}
