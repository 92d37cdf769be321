import { AsyncLocalStorage } from 'node:async_hooks'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { x402Client } from '@x402/core/client'
import type { PaymentPayload, SettleResponse } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { BaseError } from '../../shared/errors/base.js'
import { type BursarAccountParameters, bursarAccount } from '../bursarAccount.js'
import { findBaseError } from '../findBaseError.js'
import type { AgentRequestContext } from '../requestSignature.js'
import { toRequirementsJson } from '../toRequirementsJson.js'
import { extractPaymentRequired } from './extractPaymentRequired.js'

export type CreatePayingMcpClientParameters = Omit<BursarAccountParameters, 'context'> & {
  /** A connected MCP client (any transport) of an x402 MCP server. */
  client: Client
  /** Default reason recorded with every payment; a per-call reason overrides it. */
  reason?: string | undefined
}

export type PaidToolCall = {
  result: CallToolResult
  /** The payment sent in `_meta["x402/payment"]`, or null when the tool was free. */
  payment: PaymentPayload | null
  /** The server's `_meta["x402/payment-response"]` (settlement), if it sent one. */
  paymentResponse: SettleResponse | null
}

export type PayingMcpClient = {
  /** Calls a tool; a 402 is paid once through bursar and the call repeated with the payment. A bursar refusal throws its typed error and nothing is sent. */
  callTool: (params: { name: string; arguments?: Record<string, unknown> }, options?: { reason?: string }) => Promise<PaidToolCall>
}

type CallContext = { resourceUrl: string | undefined; reason: string | undefined; requirements?: AgentRequestContext['requirements']; error?: unknown }

/**
 * The agent side of x402 over MCP, paying through bursar: the reference
 * `exact` EVM scheme signs with a bursarAccount (the enclave decides), the
 * payment travels in `_meta["x402/payment"]` and the receipt comes back in
 * `_meta["x402/payment-response"]`. Each call pays at most once.
 */
export function createPayingMcpClient(params: CreatePayingMcpClientParameters): PayingMcpClient {
  const { client: mcp, reason: defaultReason, ...accountParams } = params
  const store = new AsyncLocalStorage<CallContext>()
  const account = bursarAccount({
    ...accountParams,
    context: () => {
      const c = store.getStore()
      if (!c) return undefined
      return {
        ...(c.resourceUrl && c.resourceUrl.length <= 2048 ? { resourceUrl: c.resourceUrl } : {}),
        ...(c.reason ? { reason: c.reason.slice(0, 280) } : {}),
        ...(c.requirements ? { requirements: c.requirements } : {}),
      }
    },
  })
  const x402 = new x402Client().setSpendControls(false).register('eip155:*', new ExactEvmScheme(account))
  x402.onBeforePaymentCreation(async ({ selectedRequirements: r }) => {
    const c = store.getStore()
    if (c) c.requirements = toRequirementsJson(r)
  })
  x402.onPaymentCreationFailure(async ({ error }) => {
    const c = store.getStore()
    if (c && c.error === undefined) c.error = error
  })

  return {
    async callTool(call, options) {
      const first = (await mcp.callTool({ name: call.name, arguments: call.arguments ?? {} })) as CallToolResult
      const required = extractPaymentRequired(first)
      if (!required) return { result: first, payment: null, paymentResponse: null }
      const ctx: CallContext = { resourceUrl: required.resource?.url, reason: options?.reason ?? defaultReason }
      const payment = await store.run(ctx, async () => {
        try {
          return await x402.createPaymentPayload(required)
        } catch (err) {
          // SECURITY: a refused signature ends the call here; the server never receives a payment.
          throw (ctx.error instanceof BaseError ? ctx.error : findBaseError(err)) ?? err
        }
      })
      const result = (await mcp.callTool({
        name: call.name,
        arguments: call.arguments ?? {},
        _meta: { 'x402/payment': payment },
      })) as CallToolResult
      const response = (result._meta as Record<string, unknown> | undefined)?.['x402/payment-response'] as SettleResponse | undefined
      return { result, payment, paymentResponse: response ?? null }
    },
  }
}
