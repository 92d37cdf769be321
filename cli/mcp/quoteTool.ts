import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { x402Client } from '@x402/core/client'
import { decodePaymentRequiredHeader } from '@x402/core/http'
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client'
import { NETWORKS } from '@x402/evm/v1'
import type { TypedDataDefinition } from 'viem'
import { toAccount } from 'viem/accounts'
import { postSignedRequest } from '../../agent/postSignedRequest.js'
import { toJsonValue } from '../../agent/toJsonValue.js'
import { toRequirementsJson } from '../../agent/toRequirementsJson.js'
import { bounded402Text } from '../../agent/bounded402Text.js'
import { BaseError } from '../../shared/errors/base.js'
import { wireCode } from '../../shared/errors/errorCodes.js'
import type { McpContext } from './McpContext.js'
import { ownerHint } from './ownerHint.js'
import { readBody } from './readBody.js'
import { refusalResult, toolResult } from './toolResult.js'

type Requirements = { scheme: string; network: string; asset: string; amount: string; payTo: string; maxTimeoutSeconds?: number; extra?: Record<string, unknown> }
type Spend = { chainId: number; asset: string; amount: string; to: string | null; role: string }
export type DryRunDecision = {
  verdict: 'allow' | 'deny' | 'pending' | 'unknown'
  code?: string
  rule?: string
  message?: string
  remaining?: string
  /** The enclave's own description of what it would sign, and what that signature would let someone take. */
  describe?: string
  spends?: Spend[]
}
type Prepared =
  | { kind: 'free'; status: number; body: Awaited<ReturnType<typeof readBody>> }
  | { kind: 'paid'; accepts: Requirements[]; selected: Requirements; typedData: Record<string, unknown> }

class Captured extends Error {}

/**
 * Fetches `url` unpaid and, if it answers 402, builds the exact payment
 * authorization the x402 client would ask bursar to sign (the reference
 * `exact` scheme with an account that captures instead of signing).
 */
async function prepare(ctx: McpContext, url: string): Promise<Prepared> {
  const res = await (ctx.fetch ?? globalThis.fetch)(url)
  if (res.status !== 402) return { kind: 'free', status: res.status, body: await readBody(res, 2_000) }
  const header = res.headers.get('PAYMENT-REQUIRED')
  const required = (header ? decodePaymentRequiredHeader(header) : JSON.parse(await bounded402Text(res))) as PaymentRequired
  let typedData: Record<string, unknown> | undefined
  let selected: Requirements | undefined
  const capture = toAccount({
    address: ctx.wallet,
    async signTypedData(def) {
      const d = def as TypedDataDefinition
      const domain = (toJsonValue(d.domain ?? {}) ?? {}) as Record<string, unknown>
      if (typeof domain.chainId === 'string') domain.chainId = Number(domain.chainId)
      typedData = { domain, types: toJsonValue(d.types), primaryType: d.primaryType, message: toJsonValue(d.message ?? {}) }
      throw new Captured('captured')
    },
    async signMessage() {
      throw new Captured('unsupported')
    },
    async signTransaction() {
      throw new Captured('unsupported')
    },
  })
  const client = new x402Client().setSpendControls(false).register('eip155:*', new ExactEvmScheme(capture))
  for (const name of NETWORKS) client.registerV1(name, new ExactEvmSchemeV1(capture))
  client.onBeforePaymentCreation(async ({ selectedRequirements }) => {
    selected = toRequirementsJson(selectedRequirements)
  })
  await client.createPaymentPayload(required).catch(() => {})
  if (!typedData || !selected)
    throw new QuoteError('quote_unsupported', 'The 402 offers no payment option bursar can quote (EVM exact scheme)')
  return { kind: 'paid', accepts: (required.accepts as PaymentRequirements[]).map(toRequirementsJson), selected, typedData }
}

class QuoteError extends BaseError {
  override name = 'QuoteError'
}

/** Asks the enclave to evaluate (not sign, count or audit) the authorization: its own verdict. */
async function dryRun(ctx: McpContext, p: Extract<Prepared, { kind: 'paid' }>, url: string, reason?: string): Promise<DryRunDecision> {
  try {
    const { body } = await postSignedRequest({
      host: ctx.host,
      agentKey: ctx.agentKey,
      wallet: ctx.wallet,
      path: '/v1/agent/sign',
      fields: { op: 'signTypedData', typedData: p.typedData, context: context(url, p.selected, reason), dryRun: true },
    })
    return toDecision(body)
  } catch (err) {
    const e = err as { code?: string; shortMessage?: string; rule?: string; remaining?: string }
    if (e.code === 'approval_pending') return { verdict: 'pending', code: e.code, rule: e.rule, message: e.shortMessage }
    if (typeof e.code === 'string' && (e.code.startsWith('policy_') || e.code === 'agent_frozen' || e.code === 'agent_revoked' || e.code === 'agent_no_policy'))
      return { verdict: 'deny', code: e.code, rule: e.rule, message: e.shortMessage, ...(e.remaining ? { remaining: e.remaining } : {}) }
    if (e.code === 'request_invalid') return { verdict: 'unknown', message: 'this bursar host has no enclave dry run (update it)' }
    throw err
  }
}

/** The enclave's dry-run answer (`{ dryRun: true, verdict, code?, rule?, message?, describe?, spends }`). */
function toDecision(body: unknown): DryRunDecision {
  const b = (body ?? {}) as Record<string, unknown>
  if (b.dryRun !== true) return { verdict: 'unknown', message: 'the host answered something other than a dry run' }
  const str = (k: string) => (typeof b[k] === 'string' ? { [k]: b[k] as string } : {})
  const verdict = b.verdict === 'allow' || b.verdict === 'deny' || b.verdict === 'pending' ? b.verdict : 'unknown'
  return {
    verdict,
    ...str('code'),
    ...str('rule'),
    ...str('message'),
    ...str('remaining'),
    ...str('describe'),
    ...(Array.isArray(b.spends) ? { spends: b.spends as Spend[] } : {}),
  }
}

function context(url: string, r: Requirements, reason?: string) {
  return { ...(url.length <= 2048 ? { resourceUrl: url } : {}), ...(reason ? { reason: reason.slice(0, 280) } : {}), requirements: r }
}

const ids = (ctx: McpContext) => ({ agentId: ctx.agentKey.agentId, wallet: ctx.wallet })

/** quote(url): the price a resource asks and the enclave's own verdict on paying it now (dry run: nothing signed or counted). */
export async function quoteTool(ctx: McpContext, args: { url: string }): Promise<CallToolResult> {
  try {
    const p = await prepare(ctx, args.url)
    if (p.kind === 'free') return toolResult(`HTTP ${p.status}: no payment asked`, { url: args.url, paymentRequired: false, status: p.status })
    const decision = await dryRun(ctx, p, args.url)
    const s = p.selected
    const says = decision.verdict === 'allow' ? 'the policy allows it now' : decision.verdict === 'pending' ? 'it needs the owner’s approval (request_approval)' : decision.verdict === 'deny' ? `the policy refuses it (${decision.code})` : 'the enclave verdict is unavailable'
    return toolResult(`Price ${s.amount} of ${s.asset} to ${s.payTo} (${s.scheme}, ${s.network}): ${says}`, {
      url: args.url,
      paymentRequired: true,
      price: { amount: s.amount, asset: s.asset, payTo: s.payTo, scheme: s.scheme, network: s.network },
      accepts: p.accepts,
      decision,
      wouldSpend: decision.verdict === 'allow' ? (decision.spends ?? []) : [],
    })
  } catch (err) {
    return refusalResult(err, ids(ctx))
  }
}

/**
 * request_approval(url, reason): when the enclave's dry run says the purchase
 * needs the owner, sends it once for real so the enclave records the approval
 * request (nothing is signed: the answer is approval_pending with its id).
 */
export async function requestApprovalTool(ctx: McpContext, args: { url: string; reason: string }): Promise<CallToolResult> {
  try {
    const p = await prepare(ctx, args.url)
    if (p.kind === 'free') return toolResult('No payment asked: nothing to approve', { url: args.url, paymentRequired: false })
    const decision = await dryRun(ctx, p, args.url, args.reason)
    if (decision.verdict === 'allow')
      return toolResult('Within policy already: call fetch_paid, no approval needed', { url: args.url, decision, needed: false })
    // The owner already rejected this purchase: the rule's own refusal, flagged rejectedByOwner by refusalResult.
    if (decision.verdict === 'deny' && decision.code && /the owner rejected this request/.test(decision.message ?? ''))
      return refusalResult(new QuoteError(wireCode(decision.code), decision.message!), ids(ctx))
    if (decision.verdict !== 'pending') {
      const code = 'approval_unavailable'
      const data = {
        refused: true,
        paid: false,
        code,
        ...(decision.code ? { policyCode: decision.code } : {}),
        ...(decision.rule ? { rule: decision.rule } : {}),
        message: decision.message ?? 'The policy does not send this purchase to the owner for approval',
        ownerCanDo: ownerHint(code, ids(ctx)),
      }
      return toolResult(`Refused (${code}): the policy refuses this purchase outright (${decision.code ?? decision.verdict}); nothing was sent to the owner`, data, true)
    }
    // SECURITY: a pending verdict signs nothing; the enclave answers approval_pending with the id the owner approves.
    try {
      await postSignedRequest({
        host: ctx.host,
        agentKey: ctx.agentKey,
        wallet: ctx.wallet,
        path: '/v1/agent/sign',
        fields: { op: 'signTypedData', typedData: p.typedData, context: context(args.url, p.selected, args.reason) },
      })
    } catch (err) {
      const e = err as { code?: string; pendingId?: string }
      if (e.code === 'approval_pending' && e.pendingId)
        return toolResult(`Approval requested: ${e.pendingId}. Follow it with approval_status; once approved call fetch_paid with the same url.`, {
          id: e.pendingId,
          status: 'pending',
          url: args.url,
          price: p.selected,
        })
      return refusalResult(err, ids(ctx))
    }
    // The policy changed between the dry run and this request: the enclave signed (and counted) an authorization that
    // goes nowhere — never to the merchant. Say so rather than pretend nothing happened.
    return toolResult('The policy allowed it meanwhile (the owner changed it): no approval needed; the authorization bursar signed was not sent to the merchant. Call fetch_paid.', { url: args.url, needed: false, signedUnused: true })
  } catch (err) {
    return refusalResult(err, ids(ctx))
  }
}
