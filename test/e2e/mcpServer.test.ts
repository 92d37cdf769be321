import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Address, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'
import { auditEntries } from '../helpers/agentClient.js'
import { type Stack, repoRoot, startStack } from '../helpers/startStack.js'

const CHAIN = 84532
const PRICE = 10_000n

type ToolOut = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] }

describe('bursar mcp over stdio: an MCP client pays x402 resources through a real host + enclave on anvil', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let api: StartPaidApiReturnType
  let pricey: StartPaidApiReturnType
  let client: Client
  let owner: LocalAccount
  let agentKey: AgentKey
  let wallet: Address
  let merchant: Address

  const call = async (name: string, args: Record<string, unknown> = {}, c: Client = client) => (await c.callTool({ name, arguments: args })) as ToolOut
  const spawnMcp = async (key: AgentKey, file: string) => {
    const keyFile = path.join(stack.dataDir, file)
    writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 })
    const c = new Client({ name: 'bursar-test', version: '1.0.0' })
    const args = [path.join(repoRoot, 'bin/bursar.mjs'), 'mcp', '--key', keyFile]
    await c.connect(new StdioClientTransport({ command: process.execPath, args, cwd: repoRoot, stderr: 'ignore' }))
    return c
  }

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const [deployer, admin, facilitator, ownerKey, merchantKey] = anvil.accounts
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    owner = privateKeyToAccount(ownerKey!)
    merchant = privateKeyToAccount(merchantKey!).address
    stack = await startStack()
    wallet = (await new OwnerClient(stack.url, owner).createWallet('mcp')).wallet
    await token.mint(wallet, 1_000_000n)
    const common = { rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, facilitatorKey: facilitator!, payTo: merchant }
    api = await startPaidApi({ ...common, price: PRICE, routes: { 'GET /paid': {}, 'POST /report': {} } })
    pricey = await startPaidApi({ ...common, price: 60_000n })
    const policy = {
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' }],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '35000' }],
      rules: [
        {
          id: 'x402-merchant',
          effect: 'allow' as const,
          kinds: ['eip3009' as const],
          chains: { in: [CHAIN] },
          payTo: { in: [merchant] },
          hosts: { in: ['127.0.0.1'] },
          maxValiditySeconds: 3600,
        },
      ],
    }
    ;({ agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy }))
    client = await spawnMcp(agentKey, 'agent.key.json')
  }, 120_000)
  afterAll(async () => {
    await client?.close()
    await Promise.all([api?.stop(), pricey?.stop()])
    await stack?.stop()
    await anvil?.stop()
  })

  it('lists the six tools with JSON schemas', async () => {
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['approval_status', 'budget', 'fetch_paid', 'payments', 'quote', 'request_approval'])
    const fetchPaid = tools.find((t) => t.name === 'fetch_paid')!
    expect(fetchPaid.inputSchema.required).toEqual(expect.arrayContaining(['url', 'reason']))
  })

  it('quote is the enclave’s own dry run: nothing signed, counted or audited; its verdict is what fetch_paid then gets', async () => {
    const q = (await call('quote', { url: `${api.url}/paid` })).structuredContent as { price: { amount: string; payTo: string }; decision: { verdict: string; spends?: { amount: string }[] } }
    expect(q.price).toMatchObject({ amount: String(PRICE), payTo: merchant })
    expect(q.decision.verdict).toBe('allow')
    expect(q.decision.spends?.map((x) => x.amount)).toEqual([String(PRICE)])
    const denied = (await call('quote', { url: `${pricey.url}/paid` })).structuredContent as { decision: { verdict: string; code: string } }
    expect(denied.decision).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
    const free = (await call('quote', { url: `${api.url}/free` })).structuredContent as { paymentRequired: boolean }
    expect(free.paymentRequired).toBe(false)
    // Quotes spent nothing and left no audit entry; no payment header reached either server.
    const b = (await call('budget')).structuredContent as { budgets: { rolling24h: { remaining: string } }[] }
    expect(b.budgets[0]!.rolling24h.remaining).toBe('35000')
    const decisions = ((await call('payments')).structuredContent as { payments: { event: string }[] }).payments
    expect(decisions.filter((d) => d.event.startsWith('sign_'))).toEqual([])
    expect([...api.requests, ...pricey.requests].some((r) => r.paymentHeader)).toBe(false)
  })

  it('fetch_paid pays and settles; budget and payments match the ledger; over the cap is a refusal and no payment header reaches the server', async () => {
    const before = await token.balanceOf(merchant)
    const b0 = (await call('budget')).structuredContent as { budgets: { rolling24h: { remaining: string } }[] }
    expect(b0.budgets[0]!.rolling24h.remaining).toBe('35000')

    // What quote says right before is what the enclave then decides for fetch_paid (same verdict, code, rule, amount).
    const [qOk, qNo] = (await Promise.all([call('quote', { url: `${api.url}/paid` }), call('quote', { url: `${pricey.url}/paid` })])).map(
      (r) => r.structuredContent as { decision: { verdict: string; code?: string; rule?: string; spends?: { amount: string; to: string | null }[] } },
    )
    expect(qOk!.decision.verdict).toBe('allow')
    expect(qNo!.decision).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded', rule: expect.any(String) })

    const paid = await call('fetch_paid', { url: `${api.url}/paid`, reason: 'weather data for the report' })
    expect(paid.isError).toBeFalsy()
    const out = paid.structuredContent as { status: number; body: string; paid: { amount: string; payTo: string; asset: string; scheme: string; auditSeq: number; transaction: string } }
    expect(out.status).toBe(200)
    expect(JSON.parse(out.body)).toMatchObject({ ok: true })
    expect(out.paid).toMatchObject({ scheme: 'exact', amount: String(PRICE), payTo: merchant, asset: token.address })
    expect(typeof out.paid.auditSeq).toBe('number')
    expect(out.paid.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(qOk!.decision.spends?.map((x) => [x.amount, x.to?.toLowerCase()])).toEqual([[out.paid.amount, out.paid.payTo.toLowerCase()]])
    expect(api.settlements.length).toBe(1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)

    // Over the per-payment cap: a refusal result (not a crash), and the merchant never saw a payment header.
    const refused = await call('fetch_paid', { url: `${pricey.url}/paid`, reason: 'premium report' })
    expect(refused.isError).toBe(true)
    expect(refused.structuredContent).toMatchObject({ refused: true, paid: false, code: 'policy_per_tx_cap_exceeded' })
    expect(refused.structuredContent).toMatchObject({ code: qNo!.decision.code, rule: qNo!.decision.rule })
    expect(String(refused.structuredContent!.message)).not.toBe('')
    expect(String(refused.structuredContent!.ownerCanDo)).toMatch(/bursar owner/)
    expect(pricey.requests.length).toBeGreaterThan(0)
    expect(pricey.requests.some((r) => r.paymentHeader)).toBe(false)
    expect(pricey.settlements.length).toBe(0)

    // This policy refuses over-cap purchases outright: asking the owner is not available, and says so.
    const ask = await call('request_approval', { url: `${pricey.url}/paid`, reason: 'premium report' })
    expect(ask.isError).toBe(true)
    expect(ask.structuredContent).toMatchObject({ refused: true, code: 'approval_unavailable', policyCode: 'policy_per_tx_cap_exceeded', rule: qNo!.decision.rule })
    expect(String(ask.structuredContent!.ownerCanDo)).toMatch(/Do not ask again/)
    expect(pricey.requests.some((r) => r.paymentHeader)).toBe(false)

    // An agent-side ceiling below the price: refused before anything is signed.
    const capped = await call('fetch_paid', { url: `${api.url}/paid`, reason: 'cheap only', max_amount: '9999' })
    expect(capped.structuredContent).toMatchObject({ refused: true, code: 'max_amount_exceeded' })

    // budget() is the ledger: one settled spend of PRICE out of 35 000.
    const b1 = (await call('budget')).structuredContent as { budgets: { perTx: string; rolling24h: { remaining: string; used: string } }[] }
    expect(b1.budgets[0]).toMatchObject({ perTx: '50000', rolling24h: { used: String(PRICE), remaining: String(35_000n - PRICE) } })
    // …and the same as the owner's own audit log says this agent was allowed to spend (read with the owner's key).
    const ownerView = await auditEntries(stack.url, owner, { wallet, agent: agentKey.agentId })
    const spent = ownerView.filter((e) => e.verdict === 'allow' && e.action).reduce((t, e) => t + BigInt((e.action as { amount: string }).amount), 0n)
    expect(String(spent)).toBe(b1.budgets[0]!.rolling24h.used)

    // payments(): this agent's decisions, newest first — the refusal, then the payment with the audit seq fetch_paid reported.
    const p = (await call('payments', { limit: 5 })).structuredContent as { payments: { seq: number; verdict: string; code: string | null; amount?: string }[] }
    expect(p.payments[0]).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
    const allowed = p.payments.filter((x) => x.verdict === 'allow')
    expect(allowed.map((x) => x.seq)).toEqual([out.paid.auditSeq])
    expect(allowed[0]!.amount).toBe(String(PRICE))
  })

  it('fetch_paid POST with headers and a body: paid, and the paid retry is the same POST', async () => {
    const r = await call('fetch_paid', { url: `${api.url}/report`, method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 't1' }, body: '{"q":"tides"}', reason: 'a report' })
    expect(r.isError).toBeFalsy()
    const out = r.structuredContent as { status: number; body: string; paid: { amount: string } }
    expect(out.status).toBe(200)
    expect(JSON.parse(out.body)).toMatchObject({ ok: true, route: 'POST /report' })
    expect(out.paid.amount).toBe(String(PRICE))
    const posts = api.requests.filter((x) => x.path === '/report')
    expect(posts.map((x) => [x.method, x.paymentHeader])).toEqual([['POST', false], ['POST', true]])
  })

  it('bursar mcp --http serves the same tools over Streamable HTTP on loopback: the same budget, the same verdict', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), 'mcp', '--http', '--port', '0', '--key', path.join(stack.dataDir, 'agent.key.json')], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = ''
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString()
          const m = /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err)
          if (m) resolve(m[1]!)
        })
        child.once('exit', (code) => reject(new Error(`bursar mcp --http exited ${code}: ${err}`)))
      })
      const http = new Client({ name: 'bursar-http-test', version: '1.0.0' })
      await http.connect(new StreamableHTTPClientTransport(new URL(url)))
      expect((await http.listTools()).tools.length).toBe(6)
      const viaHttp = (await http.callTool({ name: 'budget', arguments: {} })) as ToolOut
      const viaStdio = await call('budget')
      expect((viaHttp.structuredContent as { budgets: unknown }).budgets).toEqual((viaStdio.structuredContent as { budgets: unknown }).budgets)
      const q = (await http.callTool({ name: 'quote', arguments: { url: `${pricey.url}/paid` } })) as ToolOut
      expect(q.structuredContent).toMatchObject({ decision: { verdict: 'deny', code: 'policy_per_tx_cap_exceeded' } })
      await http.close()
    } finally {
      child.kill()
    }
  })

  it('bad tool input is an error result, never a crash; the server keeps serving', async () => {
    const bad = await call('fetch_paid', { url: 'not a url', reason: 'x' })
    expect(bad.isError).toBe(true)
    const unknown = await call('approval_status', { id: 'pnd_does_not_exist' })
    expect(unknown.isError).toBe(true)
    expect(((await call('budget')).structuredContent as { budgets: unknown[] }).budgets.length).toBe(1)
  })
})
