import type { PaymentRequired } from '@x402/core/types'

type ToolResultLike = { isError?: unknown; content?: unknown; structuredContent?: unknown; _meta?: unknown }

const isPaymentRequired = (v: unknown): v is PaymentRequired =>
  v !== null && typeof v === 'object' && Array.isArray((v as { accepts?: unknown }).accepts)

/** `{ code: 402, data: PaymentRequired }` (the transport's error object) or a bare PaymentRequired. */
function fromError(v: unknown): PaymentRequired | null {
  if (isPaymentRequired(v)) return v
  const e = v as { code?: unknown; data?: unknown } | null
  return e && typeof e === 'object' && (e.code === 402 || e.code === undefined) && isPaymentRequired(e.data) ? e.data : null
}

/**
 * The PaymentRequired of an x402-over-MCP 402, or null: a tool result with
 * isError whose text content is `{"x402/error":{"code":402,"data":…}}` (the
 * x402 MCP transport), or the same object in structuredContent or `_meta`.
 */
export function extractPaymentRequired(result: ToolResultLike): PaymentRequired | null {
  if (result.isError !== true) return null
  const meta = result._meta as Record<string, unknown> | undefined
  const structured = result.structuredContent as Record<string, unknown> | undefined
  for (const v of [structured?.['x402/error'], meta?.['x402/error']]) {
    const hit = v === undefined ? null : fromError(v)
    if (hit) return hit
  }
  for (const item of Array.isArray(result.content) ? result.content : []) {
    const text = (item as { type?: unknown; text?: unknown }).text
    if ((item as { type?: unknown }).type !== 'text' || typeof text !== 'string' || !text.includes('x402/error')) continue
    try {
      const hit = fromError((JSON.parse(text) as Record<string, unknown>)['x402/error'])
      if (hit) return hit
    } catch {}
  }
  return null
}
