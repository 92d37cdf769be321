import type { Hex } from 'viem'
import { z } from 'zod'
import { AgentStatusResultSchema } from '../shared/protocol/messages.js'
import { AgentReadRequestSchema } from '../shared/schemas/agentReadRequest.js'
import { AGENT_ERROR_CODES, BursarRequestError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'
import { postSignedRequest } from './postSignedRequest.js'

export type AgentReadParameters = {
  host: string
  agentKey: AgentKey
  wallet: Hex
  fetch?: typeof globalThis.fetch | undefined
  timeoutMs?: number | undefined
}

const amount = z.string().regex(/^(0|[1-9][0-9]*)$/)
const windowLeft = z.object({ limit: amount, used: amount, remaining: amount }).nullable()
const capLeft = z.object({
  chainId: z.number().int(),
  asset: z.string(),
  symbol: z.string().nullable(),
  decimals: z.number().int().nullable(),
  perTx: amount.nullable(),
  rolling24h: windowLeft,
  calendarDay: windowLeft,
})
/** The enclave's status view (core/policy/budgetStatus.ts), checked here: the host in between is untrusted. */
export const AgentStatusViewSchema = z.object({
  now: z.number().int(),
  revoked: z.boolean(),
  frozen: z.boolean(),
  policy: z.object({ version: z.number().int(), hash: z.string(), expiresAt: z.number().int().nullable() }).nullable(),
  budgets: z.array(capLeft),
  /** Wallet-wide caps (the wallet policy): what all of the wallet's agents together have left. */
  walletBudgets: z.array(capLeft).optional(),
  /** Owner-approved loosenings of this agent's (or the wallet's) policy still waiting out the time lock. */
  scheduled: z.array(z.object({ wallet: z.boolean(), version: z.number().int(), widens: z.array(z.string()), effectiveAt: z.number().int() })).optional(),
  permits: z.array(z.record(z.string(), z.unknown())),
  pending: z.array(z.object({ id: z.string(), status: z.string(), expiresAt: z.number().int(), summary: z.unknown() })),
})
export type AgentStatusView = z.infer<typeof AgentStatusViewSchema>

const PaymentsSchema = z.object({
  agentId: z.string(),
  entries: z.array(z.record(z.string(), z.unknown())),
  /** audit40: older entries continue `before` this seq (null or absent: none left; an older host sends none). */
  next: z.number().int().nullable().optional(),
})
export type AgentPayments = { agentId: string; entries: Record<string, unknown>[] }

/** The agent's remaining budget per cap and window, live permits and pending requests, as the enclave computes them. */
export async function readAgentStatus(params: AgentReadParameters): Promise<AgentStatusView> {
  const body = await signedRead(params, 'readStatus', '/v1/agent/status')
  const parsed = AgentStatusResultSchema.safeParse(body)
  const view = AgentStatusViewSchema.safeParse(parsed.success ? parsed.data.status : undefined)
  if (!view.success)
    throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent a malformed status', { cause: view.error })
  return view.data
}

/** limits41: signed reads one readAgentPayments makes at most unless the caller says (`maxPages`). */
export const PAYMENTS_MAX_PAGES = 100

/**
 * This agent's newest audit entries (allowed, refused, pending), newest first: up to `limit` (default 20, at most
 * 100). audit40: the host reads at most its row budget of the wallet's entries per request, so a page can be short
 * (even empty) with a `next`: this follows it (a fresh signed read per page) until `limit` entries or the oldest.
 * limits41: the host is untrusted, so the cursor must be a seq (≥ 0) below the last one (else `response_invalid`), and
 * at most `maxPages` reads are made (default PAYMENTS_MAX_PAGES = 100: at the host's default row budget of 5,000, half
 * a million of the wallet's entries), then `payments_page_limit` (the entries so far are lost to no one: read again
 * with a larger `maxPages`, or fewer entries).
 */
export async function readAgentPayments(params: AgentReadParameters & { limit?: number | undefined; maxPages?: number | undefined }): Promise<AgentPayments> {
  const want = params.limit === undefined ? 20 : Math.min(Math.max(Math.trunc(params.limit), 1), 100)
  const maxPages = Math.max(Math.trunc(params.maxPages ?? PAYMENTS_MAX_PAGES), 1)
  // rt41: NaN (a misread setting) would never trip `pages >= maxPages`: the host's cursor followed without end.
  if (Number.isNaN(maxPages)) throw new BursarRequestError(AGENT_ERROR_CODES.request_invalid, `maxPages must be a number (got ${params.maxPages})`)
  // rt42: a NaN limit reached the request schema as NaN (an untyped ZodError).
  if (Number.isNaN(want)) throw new BursarRequestError(AGENT_ERROR_CODES.request_invalid, `limit must be a number (got ${params.limit})`)
  const entries: Record<string, unknown>[] = []
  let agentId = ''
  for (let [before, pages]: [number | null, number] = [null, 1]; ; pages++) {
    const path = before === null ? '/v1/agent/payments' : `/v1/agent/payments?before=${before}`
    const body = await signedRead(params, 'readPayments', path, params.limit === undefined && before === null ? undefined : want - entries.length)
    const parsed = PaymentsSchema.safeParse(body)
    if (!parsed.success)
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, 'bursar host sent malformed payments', { cause: parsed.error })
    agentId = parsed.data.agentId
    // rt41: only what is still wanted (≤ 100), one push each: a page spread as arguments (a host's 500,000 entries) threw RangeError.
    for (const e of parsed.data.entries.slice(0, want - entries.length)) entries.push(e)
    const next = parsed.data.next ?? null
    if (entries.length >= want || next === null) return { agentId, entries: entries.slice(0, want) }
    if (next < 0 || (before !== null && next >= before))
      throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, `bursar host's payments cursor did not move (${next} after ${before})`)
    if (pages >= maxPages)
      throw new BursarRequestError(AGENT_ERROR_CODES.payments_page_limit, `bursar host's payments took more than ${maxPages} pages (${entries.length} entries so far, next before ${next}); pass a larger maxPages to read further`)
    before = next
  }
}

function signedRead(params: AgentReadParameters, op: 'readStatus' | 'readPayments', path: string, limit?: number): Promise<unknown> {
  const fields = { op, ...(limit !== undefined ? { limit: Math.min(Math.max(Math.trunc(limit), 1), 100) } : {}) }
  AgentReadRequestSchema.omit({ v: true, agentId: true, wallet: true, nonce: true, issuedAt: true }).parse(fields)
  return postSignedRequest({ ...params, path, fields }).then((r) => r.body)
}
