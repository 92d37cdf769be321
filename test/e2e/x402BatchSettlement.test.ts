import { type Address, getAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import type { DeployFiatTokenReturnType } from '../../scripts/devchain/deployFiatToken.js'
import { X402_BATCH_SETTLEMENT } from '../../scripts/devchain/installX402BatchSettlement.js'
import type { StartPaidApiReturnType } from '../../scripts/devchain/startPaidApi.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { Stack } from '../helpers/startStack.js'
import { type X402Chain, startX402Chain } from '../helpers/x402Chain.js'

const CHAIN = 84532
const PRICE = 1_000n
const PER_TX = 1_500n
const ROLLING = 30_000n
const LOCKED_PER_CHANNEL = 20_000n
const LOCKED_TOTAL = 20_000n

/**
 * x402 `batch-settlement` paid by the reference @x402/fetch client with bursar's account (createPayingFetch) from a
 * reference server whose reference facilitator deposits, claims and settles on anvil (bursar's test escrow and
 * collector at the canonical addresses, Circle's FiatTokenV2_2). One escrow deposit (limited by the locked-funds
 * budget), then one voucher per request, each counting only its increase; the enclave restarts mid-channel and
 * counts on from the highest total it signed; the merchant's claim moves exactly the running total.
 */
describe('x402 batch-settlement through bursar, claimed and settled on anvil', () => {
  let chain: X402Chain
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let api: StartPaidApiReturnType
  let pricey: StartPaidApiReturnType
  let otherPayee: StartPaidApiReturnType
  let big: StartPaidApiReturnType
  let steep: StartPaidApiReturnType
  let viaPermit2: StartPaidApiReturnType
  let wallet: Address
  let merchant: Address
  let agentKey: AgentKey

  beforeAll(async () => {
    chain = await startX402Chain({ chainId: CHAIN, batchSettlement: true })
    ;({ token, stack, wallet, merchant } = chain)
    const route = (price: bigint) => ({ 'GET /batch': { scheme: 'batch-settlement' as const, price } })
    api = await chain.paidApi({ payTo: merchant, price: PRICE, routes: route(PRICE) })
    pricey = await chain.paidApi({ payTo: merchant, price: 2_000n, routes: route(2_000n) })
    otherPayee = await chain.paidApi({ payTo: chain.stranger, price: PRICE, routes: route(PRICE) })
    viaPermit2 = await chain.paidApi({ facilitator: 3, payTo: merchant, price: 500n, routes: { 'GET /batch': { scheme: 'batch-settlement', price: 500n, assetTransferMethod: 'permit2' } } })
    steep = await chain.paidApi({ facilitator: 2, payTo: merchant, price: 2_000n, routes: route(2_000n) })
    big = await chain.paidApi({ facilitator: 1, payTo: merchant, price: 1_400n, routes: route(1_400n) })
    const scope = { chains: { in: [CHAIN] }, assets: { in: [token.address] }, payTo: { in: [merchant] }, hosts: { in: ['127.0.0.1'] } }
    agentKey = await chain.addAgent({
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
      escrows: [X402_BATCH_SETTLEMENT],
      lockedFunds: [{ chainId: CHAIN, asset: token.address, perChannel: LOCKED_PER_CHANNEL.toString(), total: LOCKED_TOTAL.toString() }],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: PER_TX.toString(), rolling24h: ROLLING.toString() }],
      rules: [
        // A deposit authorization expires; a voucher is money until claimed (no validity bound can cover it).
        { id: 'x402-batch-deposit', effect: 'allow' as const, kinds: ['batch_deposit' as const], ...scope, maxValiditySeconds: 3600 },
        { id: 'x402-batch-voucher', effect: 'allow' as const, kinds: ['batch_voucher' as const], ...scope },
      ],
    })
  }, 120_000)
  afterAll(async () => {
    await chain?.stop()
  })

  // One paying fetch (one client channel store) across the whole stream, as an agent keeps it.
  let paying: ReturnType<X402Chain['payingFetch']>
  const pay = () => (paying ??= chain.payingFetch(agentKey, ['batch-settlement']))
  const allowed = () => chain.allowed(agentKey)
  const counted = (entries: AuditEntry[]) =>
    entries.flatMap((e) => (e.ledger ?? []) as { type: string; amount?: string }[]).reduce((sum, ev) => sum + (ev.type === 'spend' ? BigInt(ev.amount!) : 0n), 0n)

  it('a deposit then one voucher per request; a restart mid-channel neither re-counts nor under-counts; the claim settles exactly the running total', async () => {
    const before = { wallet: await token.balanceOf(wallet), merchant: await token.balanceOf(merchant) }
    for (let i = 0; i < 6; i++) expect((await pay()(`${api.url}/batch`, undefined, { reason: `call ${i}` })).status).toBe(200)
    // The enclave restarts mid-channel (sealed state reloaded by the host); the agent's fetch carries on.
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.waitReady()
    for (let i = 6; i < 12; i++) expect((await pay()(`${api.url}/batch`, undefined, { reason: `call ${i}` })).status).toBe(200)

    const entries = await allowed()
    const deposits = entries.filter((e) => e.action?.kind === 'batch_deposit')
    const vouchers = entries.filter((e) => e.action?.kind === 'batch_voucher')
    // The reference client deposits 5× the price, and tops up when the running total would pass the balance.
    expect(deposits.length).toBeGreaterThanOrEqual(2)
    expect(deposits[0]?.action).toMatchObject({ kind: 'batch_deposit', receiver: merchant, escrow: X402_BATCH_SETTLEMENT, asset: getAddress(token.address) })
    expect(vouchers).toHaveLength(12)
    // Each voucher counted the increase of the running total: exactly the price; together the final total.
    expect(vouchers.map((v) => (v.action as { total: string }).total)).toEqual(Array.from({ length: 12 }, (_, i) => String(PRICE * BigInt(i + 1))))
    expect(vouchers.map((v) => (v.ledger as { type: string }[] | undefined)?.find((e) => e.type === 'spend'))).toEqual(vouchers.map(() => expect.objectContaining({ amount: PRICE.toString(), payTo: merchant.toLowerCase() })))
    expect(counted(entries)).toBe(12n * PRICE)
    // The deposit moved funds into escrow only; the merchant is paid by the claim: exactly the running total.
    const deposit = deposits.reduce((sum, d) => sum + BigInt((d.action as { amount: string }).amount), 0n)
    expect(await token.balanceOf(wallet)).toBe(before.wallet - deposit)
    const { claims, settle } = await api.claimAndSettle()
    expect(claims.length).toBeGreaterThan(0)
    expect(settle?.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await token.balanceOf(merchant)).toBe(before.merchant + 12n * PRICE)
    expect(await token.balanceOf(X402_BATCH_SETTLEMENT)).toBe(deposit - 12n * PRICE)
  }, 180_000)

  it('refuses beyond policy with no payment header: per-tx on the increase, pay-to, locked-funds budget', async () => {
    const seen = chain.paidUrls.length
    const before = await token.balanceOf(wallet)
    const refusal = async (url: string) => {
      const err = (await pay()(url).catch((e) => e)) as { code?: string; remaining?: string; rule?: string }
      expect(err).toBeInstanceOf(Error)
      return err
    }
    // A channel to a merchant the policy does not list: its deposit (10,000; 18,000 locked with the first channel's
    // 8,000 — within budget) is refused by the pay-to list, which applies to the channel's receiver.
    expect((await refusal(`${otherPayee.url}/batch`)).code).toBe('policy_payto_not_allowed')
    // 2,000 a call on the first channel (same merchant, token and authorizer): the running total still fits its
    // balance, so only a voucher is asked for; its increase is above the 1,500 per-tx cap.
    const perTx = await refusal(`${pricey.url}/batch`)
    expect(perTx).toMatchObject({ code: 'policy_per_tx_cap_exceeded', remaining: PER_TX.toString() })
    // A new channel whose first voucher (2,000) is above the per-tx cap: the enclave's dry run of the voucher refuses it
    // before the deposit is signed, so nothing is locked for it.
    const depositsBefore = (await allowed()).filter((e) => e.action?.kind === 'batch_deposit').length
    expect(await refusal(`${steep.url}/batch`)).toMatchObject({ code: 'policy_per_tx_cap_exceeded' })
    expect((await allowed()).filter((e) => e.action?.kind === 'batch_deposit').length).toBe(depositsBefore)
    // A new channel (another receiverAuthorizer) whose deposit (the server asks for 10× the 1,400 price) fits its
    // channel's budget, but the first channel still locks 8,000 (20,000 deposited, 12,000 promised): 22,000 > 20,000.
    expect(await refusal(`${big.url}/batch`)).toMatchObject({ code: 'policy_locked_funds_exceeded', rule: 'lockedFunds.total' })
    expect(chain.paidUrls.length).toBe(seen)
    expect(await token.balanceOf(wallet)).toBe(before)
  }, 60_000)
  it('a Permit2 deposit (witness = the channel id) into a new channel, then vouchers; the claim pays exactly their total', async () => {
    const before = await token.balanceOf(merchant)
    for (let i = 0; i < 3; i++) expect((await pay()(`${viaPermit2.url}/batch`)).status).toBe(200)
    const entries = await allowed()
    const deposit = entries.filter((e) => e.action?.kind === 'batch_deposit').at(-1)
    // 10× the 500 price, bound to the new channel through the Permit2 witness; 8,000 + 5,000 locked ≤ 20,000.
    expect(deposit?.action).toMatchObject({ kind: 'batch_deposit', amount: '5000', receiver: merchant })
    expect(entries.filter((e) => e.action?.kind === 'batch_voucher').slice(-3).map((v) => (v.action as { total: string }).total)).toEqual(['500', '1000', '1500'])
    await viaPermit2.claimAndSettle()
    expect(await token.balanceOf(merchant)).toBe(before + 1_500n)
  }, 60_000)
})
