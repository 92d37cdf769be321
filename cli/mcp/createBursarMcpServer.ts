import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import type { McpContext } from './McpContext.js'
import { approvalStatusTool, budgetTool, paymentsTool } from './agentTools.js'
import { fetchPaid } from './fetchPaid.js'
import { quoteTool, requestApprovalTool } from './quoteTool.js'

const url = z.string().url().max(2048).describe('http(s) URL of the resource')
const reason = z.string().min(1).max(280).describe('why the agent needs this (kept in the audit log, shown to the owner)')

/**
 * The `bursar mcp` server: tools an LLM calls to pay for x402 resources
 * within its owner's policy. Every decision is the enclave's; these tools
 * only ask, and report refusals as results (code, rule, what the owner can do).
 */
export function createBursarMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer({ name: 'bursar', version: '0.1.0' }, { capabilities: { tools: {} } })
  server.registerTool(
    'fetch_paid',
    {
      title: 'Fetch a paid (x402) resource',
      description:
        'Fetch a URL; if it answers HTTP 402 (x402), pay through bursar within the owner’s policy and fetch it again. Returns status, content type, body and what was paid (scheme, amount in base units, asset, payee, audit seq). A refusal returns its code, the rule and what the owner can do; nothing is paid then.',
      inputSchema: {
        url,
        method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).optional().describe('default GET'),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.string().max(1_000_000).optional(),
        max_amount: z.string().regex(/^[0-9]{1,78}$/).optional().describe('refuse if the price is above this, in the asset’s base units (USDC: 6 decimals, 10000 = 0.01)'),
        reason,
      },
      annotations: { openWorldHint: true, destructiveHint: false },
    },
    (args) => fetchPaid(ctx, args),
  )
  server.registerTool(
    'quote',
    {
      title: 'Quote a paid resource',
      description:
        'What a URL asks to be paid (without paying) and whether the owner’s policy would allow it now, as the bursar enclave itself decides (allow, deny with code and rule, or pending owner approval).',
      inputSchema: { url },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args) => quoteTool(ctx, args),
  )
  server.registerTool(
    'budget',
    {
      title: 'Remaining budget',
      description: 'Budget left per asset: per-payment cap, rolling 24 h and calendar-day windows (base units), request rate, live spend permits and approval requests.',
      annotations: { readOnlyHint: true },
    },
    () => budgetTool(ctx),
  )
  server.registerTool(
    'request_approval',
    {
      title: 'Ask the owner to approve a purchase',
      description:
        'For a purchase the policy does not allow on its own: creates an approval request the owner sees (nothing is paid). Follow it with approval_status; once approved, call fetch_paid with the same url.',
      inputSchema: { url, reason },
      annotations: { openWorldHint: true },
    },
    (args) => requestApprovalTool(ctx, args),
  )
  server.registerTool(
    'approval_status',
    {
      title: 'Approval request status',
      description: 'Where an approval request stands: pending, approved (then call fetch_paid again), rejected, used or expired.',
      inputSchema: { id: z.string().min(1).max(80).describe('the id request_approval returned') },
      annotations: { readOnlyHint: true },
    },
    (args) => approvalStatusTool(ctx, args),
  )
  server.registerTool(
    'payments',
    {
      title: 'Recent payments',
      description: 'This agent’s newest decisions from the audit log (paid, refused, pending), newest first.',
      inputSchema: { limit: z.number().int().min(1).max(100).optional().describe('default 10') },
      annotations: { readOnlyHint: true },
    },
    (args) => paymentsTool(ctx, args),
  )
  return server
}
