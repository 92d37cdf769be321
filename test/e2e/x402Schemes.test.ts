import { type Address, getAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { X402_EXACT_PERMIT2_PROXY } from '../../scripts/devchain/installX402Permit2.js'
import type { StartPaidApiReturnType } from '../../scripts/devchain/startPaidApi.js'
import { type X402Chain, startX402Chain } from '../helpers/x402Chain.js'

const CHAIN = 84532
const EXACT_PRICE = 10_000n
const UPTO_MAX = 20_000n
const UPTO_CHARGE = 7_500n
const PER_TX = 50_000n
const ROLLING = 45_000n

/**
 * x402 `exact` via Permit2 and `upto`, paid by the reference @x402/fetch
 * client with bursar's account (createPayingFetch), from a reference server
 * whose reference facilitator verifies and settles on anvil (canonical
 * Permit2, bursar's test x402 proxies at the canonical addresses, Circle's
 * FiatTokenV2_2). Within policy: paid, balances move by exactly what was
 * settled, the audit log holds the decoded scheme, amount and payee. Beyond
 * it (per-tx, rolling 24 h, pay-to, facilitator not on the allowlist): a typed
 * refusal, no payment header, no balance change.
 */
describe('x402 exact-via-Permit2 and upto through bursar, settled on anvil', () => {
  let chain: X402Chain
  let api: StartPaidApiReturnType
  let pricey: StartPaidApiReturnType
  let otherPayee: StartPaidApiReturnType
  let otherFacilitator: StartPaidApiReturnType
  let merchant: Address
  let agentKey: AgentKey

  const routes = (max: bigint) => ({
    'GET /exact': { assetTransferMethod: 'permit2' as const, price: max === UPTO_MAX ? EXACT_PRICE : max },
    'GET /upto': { scheme: 'upto' as const, price: max, charge: UPTO_CHARGE },
  })

  beforeAll(async () => {
    chain = await startX402Chain({ chainId: CHAIN })
    merchant = chain.merchant
    api = await chain.paidApi({ payTo: merchant, price: EXACT_PRICE, routes: routes(UPTO_MAX) })
    pricey = await chain.paidApi({ payTo: merchant, price: 60_000n, routes: routes(60_000n) })
    otherPayee = await chain.paidApi({ payTo: chain.stranger, price: EXACT_PRICE, routes: routes(UPTO_MAX) })
    otherFacilitator = await chain.paidApi({ facilitator: 1, payTo: merchant, price: EXACT_PRICE, routes: routes(UPTO_MAX) })
    const token = chain.token
    agentKey = await chain.addAgent({
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
      // upto: only these facilitators may settle what the wallet signs.
      facilitators: [api.facilitatorAddress],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: PER_TX.toString(), rolling24h: ROLLING.toString() }],
      rules: [
        {
          id: 'x402-permit2',
          effect: 'allow' as const,
          kinds: ['permit2_transfer' as const, 'upto' as const],
          chains: { in: [CHAIN] },
          assets: { in: [token.address] },
          payTo: { in: [merchant] },
          hosts: { in: ['127.0.0.1'] },
          maxValiditySeconds: 3600,
        },
      ],
    })
  }, 120_000)
  afterAll(async () => {
    await chain?.stop()
  })

  const pay = () => chain.payingFetch(agentKey)
  const allowed = () => chain.allowed(agentKey)
  const balances = async () => ({ wallet: await chain.token.balanceOf(chain.wallet), merchant: await chain.token.balanceOf(merchant), stranger: await chain.token.balanceOf(chain.stranger) })

  it('exact via Permit2: paid; settled through the exact proxy; balances move by the price; audited as a Permit2 transfer to the payee', async () => {
    const before = await balances()
    const res = await pay()(`${api.url}/exact`, undefined, { reason: 'exact via permit2' })
    expect(res.status).toBe(200)
    const s = api.settlements.at(-1)
    expect(s).toMatchObject({ scheme: 'exact', assetTransferMethod: 'permit2', amount: EXACT_PRICE.toString() })
    const after = await balances()
    expect(after.wallet).toBe(before.wallet - EXACT_PRICE)
    expect(after.merchant).toBe(before.merchant + EXACT_PRICE)
    const entry = (await allowed()).at(-1)
    expect(entry?.action).toMatchObject({
      kind: 'permit2_transfer',
      primaryType: 'PermitWitnessTransferFrom',
      spender: X402_EXACT_PERMIT2_PROXY,
      payTo: merchant,
      asset: getAddress(chain.token.address),
      amount: EXACT_PRICE.toString(),
    })
    expect(entry?.resourceUrl).toBe(`${api.url}/exact`)
  })

  it('upto: the signed maximum is counted; the server settles what it charged; balances move by exactly that; audited as upto', async () => {
    const before = await balances()
    const res = await pay()(`${api.url}/upto`, undefined, { reason: 'metered call' })
    expect(res.status).toBe(200)
    const s = api.settlements.at(-1)
    expect(s).toMatchObject({ scheme: 'upto', assetTransferMethod: 'permit2', amount: UPTO_CHARGE.toString() })
    const after = await balances()
    expect(after.wallet).toBe(before.wallet - UPTO_CHARGE)
    expect(after.merchant).toBe(before.merchant + UPTO_CHARGE)
    const entry = (await allowed()).at(-1)
    expect(entry?.action).toMatchObject({
      kind: 'upto',
      asset: getAddress(chain.token.address),
      amount: UPTO_MAX.toString(),
      payTo: merchant,
      facilitator: api.facilitatorAddress,
    })
  })

  it('refuses beyond policy with no payment header and no balance change: per-tx, pay-to, facilitator not allowed, rolling 24 h', async () => {
    const headers = chain.paidUrls.length
    const settled = [api, pricey, otherPayee, otherFacilitator].map((a) => a.settlements.length)
    const before = await balances()
    const refusal = async (url: string) => {
      const err = (await pay()(url).catch((e) => e)) as { code?: string; remaining?: string }
      expect(err).toBeInstanceOf(Error)
      return err
    }
    // Per-tx cap (50,000): 60,000 exact and a 60,000 upto maximum.
    expect((await refusal(`${pricey.url}/exact`)).code).toBe('policy_per_tx_cap_exceeded')
    expect((await refusal(`${pricey.url}/upto`)).code).toBe('policy_per_tx_cap_exceeded')
    // Pay-to not listed.
    expect((await refusal(`${otherPayee.url}/exact`)).code).toBe('policy_payto_not_allowed')
    expect((await refusal(`${otherPayee.url}/upto`)).code).toBe('policy_payto_not_allowed')
    // upto settled by a facilitator the policy does not list.
    expect((await refusal(`${otherFacilitator.url}/upto`)).code).toBe('policy_facilitator_not_allowed')
    // Rolling 24 h (45,000): 10,000 exact + 20,000 upto maximum counted so far; another 20,000 maximum does not fit.
    const rolling = await refusal(`${api.url}/upto`)
    expect(rolling.code).toBe('policy_daily_cap_exceeded')
    expect(String(rolling.remaining)).toBe((ROLLING - EXACT_PRICE - UPTO_MAX).toString())
    expect(chain.paidUrls.length).toBe(headers)
    expect([api, pricey, otherPayee, otherFacilitator].map((a) => a.settlements.length)).toEqual(settled)
    expect(await balances()).toEqual(before)
    // What still fits is paid: 10,000 exact (40,000 counted), then nothing more.
    expect((await pay()(`${api.url}/exact`)).status).toBe(200)
    expect((await refusal(`${api.url}/exact`)).code).toBe('policy_daily_cap_exceeded')
    expect(await chain.token.balanceOf(merchant)).toBe(before.merchant + EXACT_PRICE)
    // Every refusal left no payment on any server's wire: the servers saw headers only for the paid calls.
    for (const a of [pricey, otherPayee, otherFacilitator]) expect(a.requests.filter((r) => r.paymentHeader)).toEqual([])
  })
})
