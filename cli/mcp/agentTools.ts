import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { type AgentStatusView, readAgentPayments, readAgentStatus } from '../../agent/agentRead.js'
import type { McpContext } from './McpContext.js'
import { refusalResult, toolResult } from './toolResult.js'

const read = (ctx: McpContext) => ({ host: ctx.host, agentKey: ctx.agentKey, wallet: ctx.wallet, fetch: globalThis.fetch })
const ids = (ctx: McpContext) => ({ agentId: ctx.agentKey.agentId, wallet: ctx.wallet })

/** budget(): what the enclave says is left per cap and window, live permits and pending requests. */
export async function budgetTool(ctx: McpContext): Promise<CallToolResult> {
  try {
    const s = await readAgentStatus(read(ctx))
    const capLine = (wallet: boolean) => (b: AgentStatusView['budgets'][number]) => {
      const unit = b.symbol ?? b.asset
      const w = [
        b.perTx !== null ? `per payment ≤ ${b.perTx}` : null,
        b.rolling24h ? `24h left ${b.rolling24h.remaining}/${b.rolling24h.limit}` : null,
        b.calendarDay ? `today left ${b.calendarDay.remaining}/${b.calendarDay.limit}` : null,
      ].filter(Boolean)
      return `${wallet ? 'wallet-wide (all agents) ' : ''}${unit} on chain ${b.chainId} (base units${b.decimals !== null ? `, ${b.decimals} decimals` : ''}): ${w.join(', ')}`
    }
    const lines = [...s.budgets.map(capLine(false)), ...(s.walletBudgets ?? []).map(capLine(true))]
    const state = s.revoked ? 'REVOKED' : s.frozen ? 'FROZEN' : s.policy ? `policy v${s.policy.version}` : 'no policy'
    return toolResult([`Agent ${ctx.agentKey.agentId} (${state})`, ...lines].join('\n'), s as unknown as Record<string, unknown>)
  } catch (err) {
    return refusalResult(err, ids(ctx))
  }
}

/** payments(limit): this agent's newest decisions from the audit log (allowed, refused, pending). */
export async function paymentsTool(ctx: McpContext, args: { limit?: number | undefined }): Promise<CallToolResult> {
  try {
    const { entries } = await readAgentPayments({ ...read(ctx), limit: args.limit ?? 10 })
    const items = entries.map((e) => {
      const a = (e.action ?? null) as { kind?: string; amount?: string; asset?: string; payTo?: string; chainId?: number } | null
      return {
        seq: e.seq,
        time: e.time,
        event: e.event,
        verdict: e.verdict,
        code: e.code ?? null,
        rule: e.rule ?? null,
        resourceUrl: e.resourceUrl ?? null,
        reason: e.reason ?? null,
        ...(a ? { kind: a.kind, amount: a.amount, asset: a.asset, payTo: a.payTo, chainId: a.chainId } : {}),
      }
    })
    return toolResult(`${items.length} newest decisions, newest first`, { payments: items })
  } catch (err) {
    return refusalResult(err, ids(ctx))
  }
}

/** approval_status(id): where an approval request stands (pending, approved, rejected, used, expired). */
export async function approvalStatusTool(ctx: McpContext, args: { id: string }): Promise<CallToolResult> {
  try {
    const s = await readAgentStatus(read(ctx))
    const p = s.pending.find((x) => x.id === args.id)
    if (!p) return toolResult(`No approval request ${args.id} for this agent`, { id: args.id, status: 'not_found' }, true)
    const next: Record<string, string> = {
      pending: 'Waiting for the owner (bursar owner approve).',
      approved: 'Approved: call fetch_paid again with the same url to pay, once.',
      rejected: 'The owner rejected it: nothing was or will be paid for it. Do not retry this purchase (fetch_paid and request_approval refuse it until the request expires); tell the user.',
      used: 'Approved and already used.',
      expired: 'Expired before the owner answered: ask again with request_approval.',
    }
    const status = String(p.status)
    return toolResult(`Approval ${args.id}: ${status}. ${next[status] ?? ''}`, { ...p, next: next[status] ?? null })
  } catch (err) {
    return refusalResult(err, ids(ctx))
  }
}
