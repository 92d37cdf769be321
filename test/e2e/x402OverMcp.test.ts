import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PolicyDeniedError } from '../../agent/errors.js'
import { type PayingMcpClient, createPayingMcpClient } from '../../agent/mcp/createPayingMcpClient.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type CreatePaidMcpServerReturnType, createPaidMcpServer } from '../../scripts/devchain/createPaidMcpServer.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const CHAIN = 84532
const PRICE = 10_000n

describe('x402 over MCP: paid tools of an x402 MCP server, paid through bursar, settled on anvil', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let paid: CreatePaidMcpServerReturnType
  let client: Client
  let paying: PayingMcpClient
  let merchant: Address

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const [deployer, admin, facilitator, ownerKey, merchantKey] = anvil.accounts
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    const owner = privateKeyToAccount(ownerKey!)
    merchant = privateKeyToAccount(merchantKey!).address
    stack = await startStack()
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('mcp-tools')
    await token.mint(wallet, 1_000_000n)
    const policy = {
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '25000' }],
      rules: [{ id: 'mcp-tools', effect: 'allow' as const, kinds: ['eip3009' as const], chains: { in: [CHAIN] }, payTo: { in: [merchant] }, maxValiditySeconds: 3600 }],
    }
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy })
    paid = await createPaidMcpServer({ rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, payTo: merchant, price: PRICE, facilitatorKey: facilitator! })
    const [a, b] = InMemoryTransport.createLinkedPair()
    client = new Client({ name: 'agent', version: '1.0.0' })
    await Promise.all([paid.server.connect(b), client.connect(a)])
    paying = createPayingMcpClient({ client, host: stack.url, agentKey, wallet, reason: 'research for the user' })
  }, 120_000)
  afterAll(async () => {
    await client?.close()
    await stack?.stop()
    await anvil?.stop()
  })

  it('a free tool passes through without payment', async () => {
    const r = await paying.callTool({ name: 'ping' })
    expect(r.payment).toBeNull()
    expect(r.result.content).toEqual([{ type: 'text', text: 'pong' }])
  })

  it('a paid tool is paid once within policy (payment in _meta, settlement receipt back); beyond the budget it is refused and no payment is sent', async () => {
    const before = await token.balanceOf(merchant)
    const r = await paying.callTool({ name: 'research', arguments: { topic: 'tides' } })
    expect(r.result.isError).toBeFalsy()
    expect(JSON.parse((r.result.content[0] as { text: string }).text)).toEqual({ topic: 'tides', summary: 'paid answer' })
    expect(r.payment?.accepted).toMatchObject({ scheme: 'exact', amount: String(PRICE), payTo: merchant })
    expect(r.paymentResponse).toMatchObject({ success: true, transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    expect(paid.settlements.length).toBe(1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)
    expect(paid.calls).toEqual([
      { tool: 'research', payment: false },
      { tool: 'research', payment: true },
    ])

    // Over the per-payment cap (10 × PRICE > 50 000): typed refusal, the server never sees a payment.
    await expect(paying.callTool({ name: 'deep_research', arguments: { topic: 'tides' } })).rejects.toBeInstanceOf(PolicyDeniedError)
    expect(paid.calls.filter((c) => c.tool === 'deep_research')).toEqual([{ tool: 'deep_research', payment: false }])

    // The rolling budget (25 000) allows one more payment of PRICE, then refuses.
    expect((await paying.callTool({ name: 'research', arguments: { topic: 'waves' } })).paymentResponse?.success).toBe(true)
    const err = await paying.callTool({ name: 'research', arguments: { topic: 'currents' } }).catch((e) => e)
    expect(err).toBeInstanceOf(PolicyDeniedError)
    expect((err as PolicyDeniedError).code).toBe('policy_daily_cap_exceeded')
    expect(paid.settlements.length).toBe(2)
    expect(paid.calls.filter((c) => c.payment).length).toBe(2)
    expect(await token.balanceOf(merchant)).toBe(before + 2n * PRICE)
  })
})
