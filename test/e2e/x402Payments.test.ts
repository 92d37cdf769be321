import { type Address, createPublicClient, createWalletClient, encodeFunctionData, erc20Abi, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import { AgentRevokedError, ApprovalPendingError, PolicyDeniedError } from '../../agent/errors.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const CHAIN = 84532
const PRICE = 10_000n // 0.01 USDC

describe('x402 + EIP-1559 through bursar, settled on anvil with FiatTokenV2_2', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let api: StartPaidApiReturnType
  let pricey: StartPaidApiReturnType
  let otherPayee: StartPaidApiReturnType
  let owner: ReturnType<typeof privateKeyToAccount>
  let wallet: Address
  let merchant: Address
  let stranger: Address

  // biome-ignore lint/suspicious/noExplicitAny: policies are parsed (strictly) by setupAgent
  const basePolicy = (): any => ({
    version: 1,
    timeZone: 'UTC',
    tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
    budgets: [
      { chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '35000' },
      // Transactions pay gas in the native coin: the fee (gas × maxFeePerGas) counts against this budget.
      { chainId: CHAIN, asset: 'native', perTx: '10000000000000000', rolling24h: '100000000000000000' },
    ],
    rules: [
      {
        id: 'x402-merchant',
        effect: 'allow' as const,
        kinds: ['eip3009' as const],
        chains: { in: [CHAIN] },
        assets: { in: [token.address] },
        payTo: { in: [merchant] },
        hosts: { in: ['127.0.0.1'] },
        maxValiditySeconds: 3600,
      },
      { id: 'transfers', effect: 'allow' as const, kinds: ['erc20_transfer' as const], payTo: { in: [merchant] } },
    ],
  })

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const [deployer, admin, facilitator, ownerKey, merchantKey, strangerKey] = anvil.accounts
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    owner = privateKeyToAccount(ownerKey!)
    merchant = privateKeyToAccount(merchantKey!).address
    stranger = privateKeyToAccount(strangerKey!).address
    stack = await startStack()
    wallet = (await new OwnerClient(stack.url, owner).createWallet('agents')).wallet
    await token.mint(wallet, 1_000_000n)
    // Gas for the EIP-1559 transfers the wallet sends itself.
    const funder = createWalletClient({ account: privateKeyToAccount(deployer!), chain: anvil.chain, transport: http(anvil.rpcUrl) })
    await funder.sendTransaction({ to: wallet, value: 10n ** 18n })
    const common = { rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, facilitatorKey: facilitator! }
    api = await startPaidApi({ ...common, payTo: merchant, price: PRICE })
    pricey = await startPaidApi({ ...common, payTo: merchant, price: 60_000n })
    otherPayee = await startPaidApi({ ...common, payTo: stranger, price: PRICE })
  }, 120_000)
  afterAll(async () => {
    await Promise.all([api?.stop(), pricey?.stop(), otherPayee?.stop()])
    await stack?.stop()
    await anvil?.stop()
  })

  it('pays within policy through @x402/fetch; the reference facilitator verifies and settles; caps refuse with no payment header', async () => {
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy: basePolicy() })
    const seen: string[] = []
    const spy: typeof fetch = async (input, init) => {
      const h = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
      if (h.get('PAYMENT-SIGNATURE') || h.get('X-PAYMENT')) seen.push(String(input instanceof Request ? input.url : input))
      return fetch(input, init)
    }
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet, fetch: spy })
    const before = await token.balanceOf(merchant)
    for (let i = 0; i < 3; i++) {
      const res = await pay(`${api.url}/paid`, undefined, { reason: `call ${i}` })
      expect(res.status).toBe(200)
    }
    expect(api.settlements.length).toBe(3)
    expect(await token.balanceOf(merchant)).toBe(before + 3n * PRICE)
    expect(seen.length).toBe(3)

    // Over the per-tx cap: typed refusal, no payment header, balances unchanged.
    const mid = await token.balanceOf(merchant)
    await expect(pay(`${pricey.url}/paid`)).rejects.toBeInstanceOf(PolicyDeniedError)
    // To a pay-to the policy does not list.
    await expect(pay(`${otherPayee.url}/paid`)).rejects.toMatchObject({ code: expect.stringMatching(/^policy_/) })
    // The rolling 24 h budget (35,000 = three calls + 5,000) refuses the fourth call.
    const err = await pay(`${api.url}/paid`).catch((e) => e)
    expect(err).toBeInstanceOf(PolicyDeniedError)
    expect(String((err as PolicyDeniedError).remaining ?? '')).toBe('5000')
    expect(seen.length).toBe(3)
    expect(await token.balanceOf(merchant)).toBe(mid)
    expect(api.settlements.length).toBe(3)
  })

  it('pays an x402 v1 server (X-PAYMENT, JSON 402 body) through the reference client', async () => {
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy: basePolicy() })
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet })
    const before = await token.balanceOf(merchant)
    const res = await pay(`${api.url}/v1/paid`)
    expect(res.status).toBe(200)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)
  })

  it('refuses a host the policy does not allow (advisory context) and a revoked agent', async () => {
    const policy = basePolicy()
    policy.rules[0] = { ...policy.rules[0]!, hosts: { in: ['api.example.com'] } }
    const { agentKey, client } = await setupAgent({ host: stack.url, owner, wallet, policy })
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet })
    await expect(pay(`${api.url}/paid`)).rejects.toBeInstanceOf(PolicyDeniedError)

    const ok = await setupAgent({ host: stack.url, owner, wallet, policy: basePolicy() })
    const pay2 = createPayingFetch({ host: stack.url, agentKey: ok.agentKey, wallet })
    expect((await pay2(`${api.url}/paid`)).status).toBe(200)
    await client.act('RevokeAgent', wallet, { agentId: ok.agentKey.agentId })
    await expect(pay2(`${api.url}/paid`)).rejects.toBeInstanceOf(AgentRevokedError)
  })

  it('out of policy → pending → owner approves → the retried call pays, once', async () => {
    const policy = basePolicy()
    policy.budgets = []
    policy.rules[0] = {
      ...policy.rules[0]!,
      caps: [{ chainId: CHAIN, asset: token.address, perTx: '20000' }],
      onViolation: 'pending',
    }
    const { agentKey, client } = await setupAgent({ host: stack.url, owner, wallet, policy })
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet })
    const err = (await pay(`${pricey.url}/paid`).catch((e) => e)) as ApprovalPendingError
    expect(err).toBeInstanceOf(ApprovalPendingError)
    expect(err.pendingId).toBeTruthy()
    const settled = pricey.settlements.length
    await client.resolvePending(wallet, err.pendingId!, true)
    expect((await pay(`${pricey.url}/paid`)).status).toBe(200)
    expect(pricey.settlements.length).toBe(settled + 1)
    // The approval is used up.
    await expect(pay(`${pricey.url}/paid`)).rejects.toBeInstanceOf(ApprovalPendingError)
  })

  it('signs an EIP-1559 ERC-20 transfer anvil accepts; refuses over-cap and approve to an unlisted spender', async () => {
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy: basePolicy() })
    const account = bursarAccount({ host: stack.url, agentKey, wallet })
    const wc = createWalletClient({ account, chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const pc = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const before = await token.balanceOf(merchant)
    const hash = await wc.sendTransaction({
      to: token.address,
      data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [merchant, 1234n] }),
    })
    const receipt = await pc.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(await token.balanceOf(merchant)).toBe(before + 1234n)
    const denied = async (fn: 'transfer' | 'approve', to: Address, amount: bigint) => {
      const err = await wc
        .sendTransaction({ to: token.address, data: encodeFunctionData({ abi: erc20Abi, functionName: fn, args: [to, amount] }) })
        .catch((e: { walk: (f: (x: unknown) => boolean) => unknown }) => e)
      return (err as { walk: (f: (x: unknown) => boolean) => unknown }).walk((x) => x instanceof PolicyDeniedError) as PolicyDeniedError
    }
    expect((await denied('transfer', merchant, 60_000n)).code).toBe('policy_per_tx_cap_exceeded')
    expect((await denied('approve', stranger, 1n)).code).toMatch(/^policy_/)
    expect(await token.balanceOf(merchant)).toBe(before + 1234n)
  })
})
