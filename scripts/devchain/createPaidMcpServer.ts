import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Network, PaymentPayload, PaymentRequirements } from '@x402/core/types'
import { x402ResourceServer } from '@x402/core/server'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import type { Address, Chain, Hex } from 'viem'
import { z } from 'zod'
import { type LocalSettlement, createLocalFacilitator } from './createLocalFacilitator.js'

/**
 * Dev-chain fixture: an MCP server with x402-paid tools, speaking x402's MCP
 * transport (a 402 is a tool result with isError and
 * `{"x402/error":{"code":402,"data":PaymentRequired}}`, the payment arrives
 * in `_meta["x402/payment"]`, the settlement goes back in
 * `_meta["x402/payment-response"]`), built on the reference
 * x402ResourceServer + `exact` EVM scheme + facilitator on the local chain.
 */
export type CreatePaidMcpServerParameters = {
  rpcUrl: string
  chain: Chain
  asset: Address
  payTo: Address
  /** Price of the paid tool in base units. */
  price: bigint
  facilitatorKey: Hex
}

export type CreatePaidMcpServerReturnType = {
  server: McpServer
  settlements: LocalSettlement[]
  /** Every call of a paid tool and whether it carried `_meta["x402/payment"]`. */
  calls: { tool: string; payment: boolean }[]
}

export async function createPaidMcpServer(params: CreatePaidMcpServerParameters): Promise<CreatePaidMcpServerReturnType> {
  const network = `eip155:${params.chain.id}` as Network
  const local = createLocalFacilitator({ rpcUrl: params.rpcUrl, chain: params.chain, facilitatorKey: params.facilitatorKey, v1Networks: [] })
  const resources = new x402ResourceServer(local.client).register(network, new ExactEvmScheme())
  await resources.initialize()
  const calls: CreatePaidMcpServerReturnType['calls'] = []
  const server = new McpServer({ name: 'paid-tools', version: '1.0.0' })

  const paidTool = (name: string, price: bigint, run: (args: Record<string, unknown>) => CallToolResult) => {
    server.registerTool(name, { description: `paid tool (${price} base units)`, inputSchema: { topic: z.string() } }, async (args, extra) => {
      const payment = (extra._meta as Record<string, unknown> | undefined)?.['x402/payment'] as PaymentPayload | undefined
      calls.push({ tool: name, payment: payment !== undefined })
      const [requirements] = await resources.buildPaymentRequirements({
        scheme: 'exact',
        network,
        payTo: params.payTo,
        price: { asset: params.asset, amount: String(price), extra: { name: 'USD Coin', version: '2' } },
        maxTimeoutSeconds: 300,
      })
      const required = async (message: string): Promise<CallToolResult> => {
        const data = await resources.createPaymentRequiredResponse(
          [requirements as PaymentRequirements],
          { url: `mcp://tool/${name}`, description: `Tool: ${name}`, mimeType: 'application/json' },
          message,
        )
        return { isError: true, content: [{ type: 'text', text: JSON.stringify({ 'x402/error': { code: 402, message, data } }) }] }
      }
      if (!payment) return required('Payment required to access this tool')
      const verified = await resources.verifyPayment(payment, requirements as PaymentRequirements)
      if (!verified.isValid) return required(verified.invalidReason ?? 'Payment verification failed')
      const result = run(args)
      try {
        const settled = await resources.settlePayment(payment, requirements as PaymentRequirements)
        return { ...result, _meta: { 'x402/payment-response': settled } }
      } catch (err) {
        return required(`Settlement failed: ${(err as Error).message}`)
      }
    })
  }
  paidTool('research', params.price, (args) => ({ content: [{ type: 'text', text: JSON.stringify({ topic: args.topic, summary: 'paid answer' }) }] }))
  paidTool('deep_research', params.price * 10n, (args) => ({ content: [{ type: 'text', text: JSON.stringify({ topic: args.topic, summary: 'deep answer' }) }] }))
  server.registerTool('ping', { description: 'free tool' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
  return { server, settlements: local.settlements, calls }
}
