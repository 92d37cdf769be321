import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { decodePaymentResponseHeader, decodePaymentSignatureHeader } from '@x402/core/http'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import type { McpContext } from './McpContext.js'
import { limitPaymentRequired } from './limitPaymentRequired.js'
import { readBody } from './readBody.js'
import { refusalResult, toolResult } from './toolResult.js'

export type FetchPaidArgs = {
  url: string
  method?: string | undefined
  headers?: Record<string, string> | undefined
  body?: string | undefined
  /** Base units of the asset (USDC: 6 decimals); a price above it is refused before anything is signed. */
  max_amount?: string | undefined
  reason: string
}

export type PaidSummary = {
  scheme: string
  network: string
  amount: string
  asset: string
  payTo: string
  auditSeq: number | null
  transaction: string | null
}

/**
 * The fetch_paid tool: fetches a URL and, if it answers 402, pays through
 * bursar (createPayingFetch → the enclave decides) and retries. Answers the
 * status, content type, body (cut with a note when large) and what was paid;
 * a refusal is a tool result with the code, the rule and what the owner can
 * do — the resource never sees a payment header then.
 */
export async function fetchPaid(ctx: McpContext, args: FetchPaidArgs): Promise<CallToolResult> {
  const ids = { agentId: ctx.agentKey.agentId, wallet: ctx.wallet }
  let max: bigint | undefined
  if (args.max_amount !== undefined) {
    if (!/^(0|[1-9][0-9]{0,77})$/.test(args.max_amount))
      return toolResult('max_amount must be an integer in base units', { refused: true, paid: false, code: 'request_invalid' }, true)
    max = BigInt(args.max_amount)
  }
  const base = ctx.fetch ?? globalThis.fetch
  let payment: Omit<PaidSummary, 'auditSeq' | 'transaction'> | null = null
  let auditSeq: number | null = null
  const spy: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    const v2 = headers.get('PAYMENT-SIGNATURE')
    const v1 = headers.get('X-PAYMENT')
    if (v2 || v1) payment = describePayment(v2 ?? v1!)
    const res = await base(input, init)
    if (res.status === 402 && !v2 && !v1 && max !== undefined) return limitPaymentRequired(res, max)
    return res
  }
  const pay = createPayingFetch({
    host: ctx.host,
    agentKey: ctx.agentKey,
    wallet: ctx.wallet,
    fetch: spy,
    onReceipt: (r) => {
      const seq = (r.receipt as { seq?: unknown } | null)?.seq
      if (typeof seq === 'number') auditSeq = seq
    },
  })
  const init: RequestInit = {
    method: (args.method ?? 'GET').toUpperCase(),
    ...(args.headers ? { headers: args.headers } : {}),
    ...(args.body !== undefined ? { body: args.body } : {}),
  }
  let res: Response
  try {
    res = await pay(args.url, init, { reason: args.reason.slice(0, 280) })
  } catch (err) {
    return refusalResult(err, ids)
  }
  const body = await readBody(res, ctx.maxBodyChars ?? 16_000)
  const settle = res.headers.get('PAYMENT-RESPONSE') ?? res.headers.get('X-PAYMENT-RESPONSE')
  let transaction: string | null = null
  if (settle) {
    try {
      transaction = decodePaymentResponseHeader(settle).transaction || null
    } catch {}
  }
  const paid: PaidSummary | null = payment ? { ...(payment as Omit<PaidSummary, 'auditSeq' | 'transaction'>), auditSeq, transaction } : null
  const data = { status: res.status, ok: res.ok, contentType: res.headers.get('content-type'), ...body, paid }
  const what = paid ? `paid ${paid.amount} of ${paid.asset} to ${paid.payTo} (audit seq ${paid.auditSeq})` : 'no payment'
  const note = res.status === 402 && paid ? ' — the server did not accept the payment' : ''
  return toolResult(`HTTP ${res.status}, ${what}${note}`, data, res.status >= 400)
}

/** The requirements a payment header answered (v2 `accepted`, or the v1 scheme/network + authorization). */
function describePayment(header: string): Omit<PaidSummary, 'auditSeq' | 'transaction'> | null {
  try {
    const p = decodePaymentSignatureHeader(header) as unknown as {
      accepted?: { scheme: string; network: string; amount: string; asset: string; payTo: string }
      scheme?: string
      network?: string
      payload?: { authorization?: { to?: string; value?: string } }
    }
    if (p.accepted) {
      const a = p.accepted
      return { scheme: a.scheme, network: a.network, amount: a.amount, asset: a.asset, payTo: a.payTo }
    }
    return {
      scheme: p.scheme ?? '?',
      network: p.network ?? '?',
      amount: p.payload?.authorization?.value ?? '?',
      asset: '?',
      payTo: p.payload?.authorization?.to ?? '?',
    }
  } catch {
    return null
  }
}
