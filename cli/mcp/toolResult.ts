import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { findBaseError } from '../../agent/findBaseError.js'
import { ownerHint } from './ownerHint.js'

/** A tool answer: a short human line followed by the JSON an LLM (or a program) reads; `structuredContent` carries the same object. */
export function toolResult(summary: string, data: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: `${summary}\n${JSON.stringify(data, null, 2)}` }],
    structuredContent: data,
    ...(isError ? { isError: true } : {}),
  }
}

/**
 * A refusal or failure as a tool result, never a thrown error: the stable
 * code, the rule that decided, the enclave's message, what the owner can do.
 */
export function refusalResult(err: unknown, ids: { agentId: string; wallet: string }): CallToolResult {
  const e = findBaseError(err)
  const code = e?.code ?? 'tool_failed'
  const any = (e ?? {}) as { rule?: string; remaining?: string; pendingId?: string }
  const message = e?.shortMessage ?? (err instanceof Error ? err.message : String(err)).slice(0, 500)
  // The enclave's refusal of a purchase the owner already rejected (core/policy/decidePolicy.ts says so in its message).
  const rejected = code.startsWith('policy_') && /the owner rejected this request/.test(message)
  const data = {
    refused: true,
    paid: false,
    code,
    message,
    ...(any.rule ? { rule: any.rule } : {}),
    ...(any.remaining !== undefined ? { remaining: any.remaining } : {}),
    ...(any.pendingId ? { pendingId: any.pendingId } : {}),
    ...(rejected ? { rejectedByOwner: true } : {}),
    ownerCanDo: rejected
      ? 'Nothing was paid. The owner rejected this purchase: do not retry it or ask again for approval; tell the user (the owner can still change the policy).'
      : ownerHint(code, { ...ids, pendingId: any.pendingId }),
  }
  return toolResult(`Refused (${code}): ${data.message}`, data, true)
}
