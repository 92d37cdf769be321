import { x402Client } from '@x402/core/client'
import { decodePaymentResponseHeader } from '@x402/core/http'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client'
import { wrapFetchWithPayment } from '@x402/fetch'
import { type Address, createPublicClient, encodeFunctionData, erc20Abi, hashDomain, http, keccak256, parseAbi } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'

const PRICE = 10_000n // 0.01 USDC

describe('devchain: anvil + FiatTokenV2_2 + reference x402 paid API', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let api: StartPaidApiReturnType
  let payer: ReturnType<typeof privateKeyToAccount>
  let merchant: Address

  beforeAll(async () => {
    anvil = await startAnvil()
    const [deployer, admin, facilitator, payerKey, merchantKey] = anvil.accounts
    if (!deployer || !admin || !facilitator || !payerKey || !merchantKey) throw new Error('anvil keys missing')
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer, admin })
    payer = privateKeyToAccount(payerKey)
    merchant = privateKeyToAccount(merchantKey).address
    await token.mint(payer.address, 5_000_000n)
    api = await startPaidApi({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      asset: token.address,
      payTo: merchant,
      price: PRICE,
      facilitatorKey: facilitator,
    })
  })
  afterAll(async () => {
    await api?.stop()
    await anvil?.stop()
  })

  it('deploys USDC whose EIP-712 domain is {USD Coin, 2, chainId, proxy}', async () => {
    const pub = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const onChain = await pub.readContract({
      address: token.address,
      abi: parseAbi(['function DOMAIN_SEPARATOR() view returns (bytes32)']),
      functionName: 'DOMAIN_SEPARATOR',
    })
    const expected = hashDomain({
      domain: { name: 'USD Coin', version: '2', chainId: BigInt(anvil.chain.id), verifyingContract: token.address },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
        ],
      },
    })
    expect(onChain).toBe(expected)
    expect(await token.balanceOf(payer.address)).toBe(5_000_000n)
  })

  it('answers 402 without payment', async () => {
    const res = await fetch(`${api.url}/paid`)
    expect(res.status).toBe(402)
    expect(res.headers.get('PAYMENT-REQUIRED')).toBeTruthy()
  })

  it('a viem account pays through @x402/fetch: 200, settled on-chain, balances move, replay refused', async () => {
    const sent: Request[] = []
    const spy: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      sent.push(req.clone())
      return fetch(req)
    }
    const client = new x402Client().setSpendControls(false).register(api.network, new ExactEvmScheme(payer))
    const pay = wrapFetchWithPayment(spy, client)
    const before = { payer: await token.balanceOf(payer.address), merchant: await token.balanceOf(merchant) }
    const settledBefore = api.settlements.length

    const res = await pay(`${api.url}/paid`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: true, path: '/paid' })
    const receipt = decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '')
    expect(receipt.success).toBe(true)

    expect(api.settlements.length).toBe(settledBefore + 1)
    const s = api.settlements.at(-1)
    expect(s?.payer?.toLowerCase()).toBe(payer.address.toLowerCase())
    expect(s?.amount).toBe(PRICE.toString())
    const pub = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const tx = await pub.getTransactionReceipt({ hash: s?.transaction ?? '0x' })
    expect(tx.status).toBe('success')
    expect(await token.balanceOf(payer.address)).toBe(before.payer - PRICE)
    expect(await token.balanceOf(merchant)).toBe(before.merchant + PRICE)

    // Replay: the exact PAYMENT-SIGNATURE header a second time.
    const paid = sent.find((r) => r.headers.has('PAYMENT-SIGNATURE'))
    const header = paid?.headers.get('PAYMENT-SIGNATURE')
    expect(header).toBeTruthy()
    const replay = await fetch(`${api.url}/paid`, { headers: { 'PAYMENT-SIGNATURE': header ?? '' } })
    expect(replay.status).toBe(402)
    expect(api.settlements.length).toBe(settledBefore + 1)
    expect(await token.balanceOf(payer.address)).toBe(before.payer - PRICE)
  })

  it('serves a v1 route (X-PAYMENT, JSON 402 body) through the reference v1 scheme', async () => {
    const first = await fetch(`${api.url}/v1/paid`)
    expect(first.status).toBe(402)
    const body = (await first.json()) as { x402Version: number; accepts: { maxAmountRequired: string }[] }
    expect(body.x402Version).toBe(1)
    expect(body.accepts[0]?.maxAmountRequired).toBe(PRICE.toString())

    const client = new x402Client().setSpendControls(false).registerV1(
      api.v1Network ?? 'base-sepolia',
      new ExactEvmSchemeV1(payer),
    )
    const before = await token.balanceOf(merchant)
    const res = await wrapFetchWithPayment(fetch, client)(`${api.url}/v1/paid`)
    expect(res.status).toBe(200)
    expect(res.headers.get('X-PAYMENT-RESPONSE')).toBeTruthy()
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)
    expect(api.settlements.at(-1)?.x402Version).toBe(1)
  })

  it('accepts a viem-signed EIP-1559 ERC-20 transfer and moves balances', async () => {
    const pub = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const fees = await pub.estimateFeesPerGas()
    const before = { payer: await token.balanceOf(payer.address), merchant: await token.balanceOf(merchant) }
    const raw = await payer.signTransaction({
      type: 'eip1559',
      chainId: anvil.chain.id,
      to: token.address,
      nonce: await pub.getTransactionCount({ address: payer.address }),
      gas: 100_000n,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [merchant, 123n] }),
    })
    const hash = await pub.sendRawTransaction({ serializedTransaction: raw })
    expect(hash).toBe(keccak256(raw))
    const receipt = await pub.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    expect(await token.balanceOf(payer.address)).toBe(before.payer - 123n)
    expect(await token.balanceOf(merchant)).toBe(before.merchant + 123n)
  })
})
