import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../scripts/devchain/deployFiatToken.js'
import { type StartAnvilReturnType, startAnvil } from '../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../scripts/devchain/startPaidApi.js'
import { createPayingFetch } from './createPayingFetch.js'
import { ApprovalPendingError, PolicyDeniedError } from './errors.js'
import { generateAgentKey } from './generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'

const PRICE = 25_000n
const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }

describe('createPayingFetch: @x402/fetch + exact EVM scheme + bursarAccount against the reference paid API', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let api: StartPaidApiReturnType
  let host: MockBursarHostReturnType
  let wallet: Hex
  let refuse: ((i: number) => { status: number; body: unknown } | undefined) | undefined
  const merchant = '0x000000000000000000000000000000000000bEEF' as const

  beforeAll(async () => {
    anvil = await startAnvil()
    const [deployer, admin, facilitatorKey, walletKey] = anvil.accounts as [Hex, Hex, Hex, Hex]
    wallet = privateKeyToAccount(walletKey).address
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer, admin })
    await token.mint(wallet, 1_000_000n)
    api = await startPaidApi({ rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, payTo: merchant, price: PRICE, facilitatorKey })
    host = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey, decide: (_, i) => refuse?.(i) })
  })
  afterAll(async () => {
    await api?.stop()
    await host?.stop()
    await anvil?.stop()
  })

  const spyFetch = () => {
    const sent: Request[] = []
    const f: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      sent.push(req.clone())
      return fetch(req)
    }
    return { sent, f }
  }

  it('pays a v2 402: 200, settled on-chain, and the host saw URL + requirements as context', async () => {
    refuse = undefined
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, reason: 'weather data' })
    expect(pay.account.address).toBe(wallet)
    const before = await token.balanceOf(merchant)
    const n = api.settlements.length
    const res = await pay(`${api.url}/paid`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: true })
    expect(api.settlements.length).toBe(n + 1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)

    const seen = host.requests.at(-1)?.request
    expect(seen?.op).toBe('signTypedData')
    expect(seen?.context).toMatchObject({
      resourceUrl: `${api.url}/paid`,
      reason: 'weather data',
      requirements: {
        scheme: 'exact',
        network: 'eip155:84532',
        asset: token.address,
        amount: PRICE.toString(),
        payTo: merchant,
        extra: { name: 'USD Coin', version: '2' },
      },
    })
    if (seen?.op === 'signTypedData') {
      expect(seen.typedData.primaryType).toBe('TransferWithAuthorization')
      expect(seen.typedData.message).toMatchObject({ from: wallet, to: merchant, value: PRICE.toString() })
    }
  })

  it('pays a v1 402 (X-PAYMENT) too, with maxAmountRequired read as the amount', async () => {
    refuse = undefined
    const pay = createPayingFetch({ host: host.url, agentKey, wallet })
    const before = await token.balanceOf(merchant)
    const res = await pay(`${api.url}/v1/paid`, undefined, { reason: 'legacy api' })
    expect(res.status).toBe(200)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)
    expect(host.requests.at(-1)?.request.context).toMatchObject({
      reason: 'legacy api',
      requirements: { network: 'base-sepolia', amount: PRICE.toString(), payTo: merchant },
    })
  })

  it('a policy refusal throws PolicyDeniedError and sends no payment header', async () => {
    refuse = () => ({ status: 403, body: { code: 'policy_per_tx_cap_exceeded', message: 'over cap', rule: 'perTxCap', remaining: '0' } })
    const { sent, f } = spyFetch()
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: f })
    const before = await token.balanceOf(wallet)
    const n = api.settlements.length
    const err = await pay(`${api.url}/paid`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PolicyDeniedError)
    expect(err).toMatchObject({ code: 'policy_per_tx_cap_exceeded', rule: 'perTxCap', remaining: '0' })
    expect(sent).toHaveLength(1) // only the unpaid request
    for (const r of sent) {
      expect(r.headers.has('PAYMENT-SIGNATURE')).toBe(false)
      expect(r.headers.has('X-PAYMENT')).toBe(false)
    }
    expect(api.settlements.length).toBe(n)
    expect(await token.balanceOf(wallet)).toBe(before)
  })

  it('an out-of-policy payment held for approval throws ApprovalPendingError with the pending id', async () => {
    refuse = () => ({ status: 202, body: { code: 'approval_pending', message: 'held', pendingId: 'pnd_42' } })
    const { sent, f } = spyFetch()
    const pay = createPayingFetch({ host: host.url, agentKey, wallet, fetch: f })
    const err = await pay(`${api.url}/paid`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApprovalPendingError)
    expect((err as ApprovalPendingError).pendingId).toBe('pnd_42')
    expect(sent.some((r) => r.headers.has('PAYMENT-SIGNATURE'))).toBe(false)
  })

  it('passes non-402 responses through without asking the host', async () => {
    refuse = undefined
    const pay = createPayingFetch({ host: host.url, agentKey, wallet })
    const n = host.requests.length
    const res = await pay(`${api.url}/nothing-here`)
    expect(res.status).toBe(404)
    expect(host.requests.length).toBe(n)
  })
})
