import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { Address, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'
import { runCli } from '../helpers/agentClient.js'
import { type Stack, repoRoot, startStack } from '../helpers/startStack.js'

const CHAIN = 84532
const CHEAP = 10_000n
const PRICEY = 60_000n

type ToolOut = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] }

/**
 * The approval flow through `bursar mcp`: the agent (an MCP client from the SDK, spawning `bursar mcp` over stdio)
 * asks for an out-of-policy purchase, the owner answers with the CLI (`bursar owner approve|reject`, spawned for
 * real), the agent follows with approval_status and pays with fetch_paid — on anvil, through a real host + enclave,
 * to the reference x402 server.
 */
describe('bursar mcp approvals: request_approval → bursar owner approve|reject → approval_status → fetch_paid', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let cheap: StartPaidApiReturnType
  let pricey: StartPaidApiReturnType
  let pricey2: StartPaidApiReturnType
  let client: Client
  let ownerKey: Hex
  let wallet: Address
  let merchant: Address
  let cliDir: string

  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolOut
  /** `bursar owner …` as the owner runs it: a separate process with the owner key in BURSAR_OWNER_KEY. */
  const owner = (args: string[]) => runCli(['owner', ...args, '--host', stack.url, '--json'], { BURSAR_OWNER_KEY: ownerKey, HOME: cliDir }, cliDir)
  const headers = (api: StartPaidApiReturnType) => api.requests.filter((r) => r.paymentHeader).length

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const [deployer, admin, facilitator, ownerPk, merchantKey] = anvil.accounts
    ownerKey = ownerPk!
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    const ownerAccount = privateKeyToAccount(ownerKey)
    merchant = privateKeyToAccount(merchantKey!).address
    stack = await startStack()
    cliDir = mkdtempSync(path.join(tmpdir(), 'bursar-mcp-approval-'))
    wallet = (await new OwnerClient(stack.url, ownerAccount).createWallet('mcp-approvals')).wallet
    await token.mint(wallet, 1_000_000n)
    const common = { rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, facilitatorKey: facilitator!, payTo: merchant }
    ;[cheap, pricey, pricey2] = await Promise.all([
      startPaidApi({ ...common, price: CHEAP }),
      startPaidApi({ ...common, price: PRICEY }),
      startPaidApi({ ...common, price: PRICEY }),
    ])
    // The wallet's budget is wide; over the rule's 20 000 per payment goes to the owner instead of being refused.
    const policy = {
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' }],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: '1000000', rolling24h: '1000000' }],
      rules: [
        {
          id: 'x402-merchant',
          effect: 'allow' as const,
          kinds: ['eip3009' as const],
          chains: { in: [CHAIN] },
          payTo: { in: [merchant] },
          hosts: { in: ['127.0.0.1'] },
          maxValiditySeconds: 3600,
          caps: [{ chainId: CHAIN, asset: token.address, perTx: '20000' }],
          onViolation: 'pending' as const,
        },
      ],
    }
    const { agentKey } = await setupAgent({ host: stack.url, owner: ownerAccount, wallet, policy })
    const keyFile = path.join(cliDir, 'agent.key.json')
    writeFileSync(keyFile, JSON.stringify(agentKey), { mode: 0o600 })
    // Started the way the README's MCP config block says (examples/mcp.example.json), from another directory.
    const example = JSON.parse(readFileSync(path.join(repoRoot, 'examples/mcp.example.json'), 'utf8')) as { mcpServers: { bursar: { command: string; args: string[] } } }
    const { command, args } = example.mcpServers.bursar
    expect(command).toBe('node')
    const real = args.map((a) => a.replace('/path/to/bursar', repoRoot).replace('/home/me/.bursar/agt_research-bot.json', keyFile))
    client = new Client({ name: 'bursar-approval-test', version: '1.0.0' })
    await client.connect(new StdioClientTransport({ command: process.execPath, args: real, cwd: cliDir, stderr: 'ignore' }))
  }, 120_000)
  afterAll(async () => {
    await client?.close()
    await Promise.all([cheap?.stop(), pricey?.stop(), pricey2?.stop()])
    await stack?.stop()
    await anvil?.stop()
  })

  it('within the cap no approval is needed (and nothing is paid by asking)', async () => {
    const r = await call('request_approval', { url: `${cheap.url}/paid`, reason: 'small' })
    expect(r.isError).toBeFalsy()
    expect(r.structuredContent).toMatchObject({ needed: false })
    expect(headers(cheap)).toBe(0)
  })

  it('approved: pending until the owner approves with the CLI, then fetch_paid pays once within the approval', async () => {
    const url = `${pricey.url}/paid`
    const q = (await call('quote', { url })).structuredContent as { decision: { verdict: string } }
    expect(q.decision.verdict).toBe('pending')

    const asked = await call('request_approval', { url, reason: 'the full report' })
    expect(asked.isError).toBeFalsy()
    const id = (asked.structuredContent as { id: string }).id
    expect(id).toMatch(/^pnd_/)
    expect((await call('approval_status', { id })).structuredContent).toMatchObject({ status: 'pending' })
    // budget() lists the open request too, and asking spent nothing.
    const b = (await call('budget')).structuredContent as { pending: { id: string; status: string }[]; budgets: { rolling24h: { used: string } }[] }
    expect(b.pending).toEqual([expect.objectContaining({ id, status: 'pending' })])
    expect(b.budgets[0]!.rolling24h.used).toBe('0')

    // Before the owner answers, fetch_paid is a refusal result naming the same request; no payment header is sent.
    const early = await call('fetch_paid', { url, reason: 'the full report' })
    expect(early.isError).toBe(true)
    expect(early.structuredContent).toMatchObject({ refused: true, paid: false, code: 'approval_pending', pendingId: id })
    expect(String(early.structuredContent!.ownerCanDo)).toContain(`bursar owner approve ${id}`)
    expect(headers(pricey)).toBe(0)

    // The owner sees it and approves it with the CLI.
    const listed = await owner(['pending', 'list'])
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ pendingId: id, agentId: expect.any(String) })])
    const approved = await owner(['approve', id])
    expect(approved.stderr.replace(/^(warning|bursar): .*\n/gm, '')).toBe('')
    expect(approved.code).toBe(0)

    expect((await call('approval_status', { id })).structuredContent).toMatchObject({ status: 'approved' })
    const before = await token.balanceOf(merchant)
    const paid = await call('fetch_paid', { url, reason: 'the full report' })
    expect(paid.isError).toBeFalsy()
    expect(paid.structuredContent).toMatchObject({ status: 200, paid: { amount: String(PRICEY), payTo: merchant } })
    expect(pricey.settlements.length).toBe(1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICEY)
    expect((await call('approval_status', { id })).structuredContent).toMatchObject({ status: 'used' })

    // Used once: the next purchase of the same thing goes back to the owner, nothing more is paid.
    const again = await call('fetch_paid', { url, reason: 'the full report again' })
    expect(again.structuredContent).toMatchObject({ refused: true, code: 'approval_pending' })
    expect((again.structuredContent as { pendingId: string }).pendingId).not.toBe(id)
    expect(pricey.settlements.length).toBe(1)
    expect(headers(pricey)).toBe(1)
  })

  it('rejected: approval_status says so plainly, and fetch_paid is a refusal result with no payment header sent', async () => {
    const url = `${pricey2.url}/paid`
    const asked = await call('request_approval', { url, reason: 'another report' })
    const id = (asked.structuredContent as { id: string }).id
    expect(id).toMatch(/^pnd_/)
    const rejected = await owner(['reject', id])
    expect(rejected.code).toBe(0)

    const status = await call('approval_status', { id })
    expect(status.isError).toBeFalsy()
    expect(status.structuredContent).toMatchObject({ id, status: 'rejected' })
    expect(status.content[0]!.text).toMatch(/rejected/)

    const refused = await call('fetch_paid', { url, reason: 'another report' })
    expect(refused.isError).toBe(true)
    expect(refused.structuredContent).toMatchObject({ refused: true, paid: false, code: 'policy_per_tx_cap_exceeded', rule: expect.any(String) })
    expect(String(refused.structuredContent!.message)).toMatch(/rejected/)
    expect(refused.structuredContent).toMatchObject({ rejectedByOwner: true })
    expect(String(refused.structuredContent!.ownerCanDo)).toMatch(/rejected this purchase: do not retry/)
    // Asking again is refused plainly too, and sends nothing.
    const again = await call('request_approval', { url, reason: 'please' })
    expect(again.isError).toBe(true)
    expect(again.structuredContent).toMatchObject({ refused: true, code: 'policy_per_tx_cap_exceeded', rejectedByOwner: true })
    expect(headers(pricey2)).toBe(0)
    expect(pricey2.settlements.length).toBe(0)
  })
})
