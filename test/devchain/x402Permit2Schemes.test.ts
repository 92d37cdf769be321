import { x402Client } from '@x402/core/client'
import { decodePaymentResponseHeader } from '@x402/core/http'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import { wrapFetchWithPayment } from '@x402/fetch'
import {
  type Address,
  type Hex,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  hashDomain,
  http,
  parseAbi,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import {
  PERMIT2_ADDRESS,
  X402_EXACT_PERMIT2_PROXY,
  X402_UPTO_PERMIT2_PROXY,
  approvePermit2AsOwner,
  installX402Permit2,
} from '../../scripts/devchain/installX402Permit2.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'

const EXACT_PRICE = 10_000n
const UPTO_MAX = 50_000n
const UPTO_CHARGE = 12_345n

const uptoProxyAbi = parseAbi([
  'struct TokenPermissions { address token; uint256 amount; }',
  'struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }',
  'struct Witness { address to; address facilitator; uint256 validAfter; }',
  'function settle(PermitTransferFrom permit, uint256 amount, address owner, Witness witness, bytes signature)',
  'error AmountExceedsPermitted()',
  'error UnauthorizedFacilitator()',
  'error InvalidNonce()',
])
const uptoTypes = {
  PermitWitnessTransferFrom: [
    { name: 'permitted', type: 'TokenPermissions' },
    { name: 'spender', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
    { name: 'witness', type: 'Witness' },
  ],
  TokenPermissions: [
    { name: 'token', type: 'address' },
    { name: 'amount', type: 'uint256' },
  ],
  Witness: [
    { name: 'to', type: 'address' },
    { name: 'facilitator', type: 'address' },
    { name: 'validAfter', type: 'uint256' },
  ],
} as const

/**
 * The reference x402 stack for the Permit2 schemes on a real chain: canonical
 * Permit2 (Uniswap's runtime code from npm), bursar's own test x402 proxies at
 * the canonical addresses, Circle's FiatTokenV2_2, the reference server
 * (`@x402/express` + exact/upto server schemes) and the reference facilitator
 * settling on anvil. Paid by a plain viem account through @x402/fetch.
 */
describe('devchain: exact via Permit2 and upto, settled by the reference facilitator on anvil', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let api: StartPaidApiReturnType
  let payer: ReturnType<typeof privateKeyToAccount>
  let stranger: ReturnType<typeof privateKeyToAccount>
  let merchant: Address
  const pub = () => createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })

  beforeAll(async () => {
    anvil = await startAnvil()
    const [deployer, admin, facilitator, payerKey, merchantKey, strangerKey] = anvil.accounts
    if (!deployer || !admin || !facilitator || !payerKey || !merchantKey || !strangerKey) throw new Error('anvil keys missing')
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer, admin })
    await installX402Permit2({ rpcUrl: anvil.rpcUrl })
    payer = privateKeyToAccount(payerKey)
    stranger = privateKeyToAccount(strangerKey)
    merchant = privateKeyToAccount(merchantKey).address
    await token.mint(payer.address, 5_000_000n)
    await approvePermit2AsOwner({ rpcUrl: anvil.rpcUrl, token: token.address, owner: payer.address })
    api = await startPaidApi({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      asset: token.address,
      payTo: merchant,
      price: EXACT_PRICE,
      facilitatorKey: facilitator,
      v1: false,
      routes: {
        'GET /exact-permit2': { assetTransferMethod: 'permit2' },
        'GET /upto': { scheme: 'upto', price: UPTO_MAX, charge: UPTO_CHARGE },
      },
    })
  }, 30_000)
  afterAll(async () => {
    await api?.stop()
    await anvil?.stop()
  })

  const client = () =>
    new x402Client().setSpendControls(false).register(api.network, new ExactEvmScheme(payer)).register(api.network, new UptoEvmScheme(payer))

  it('Permit2 is at its canonical address with its domain rebuilt for this chain; both proxies have code', async () => {
    const sep = await pub().readContract({
      address: PERMIT2_ADDRESS,
      abi: parseAbi(['function DOMAIN_SEPARATOR() view returns (bytes32)']),
      functionName: 'DOMAIN_SEPARATOR',
    })
    const expected = hashDomain({
      domain: { name: 'Permit2', chainId: BigInt(anvil.chain.id), verifyingContract: PERMIT2_ADDRESS },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
        ],
      },
    })
    expect(sep).toBe(expected)
    for (const proxy of [X402_EXACT_PERMIT2_PROXY, X402_UPTO_PERMIT2_PROXY]) {
      const permit2 = await pub().readContract({ address: proxy, abi: parseAbi(['function PERMIT2() view returns (address)']), functionName: 'PERMIT2' })
      expect(permit2).toBe(PERMIT2_ADDRESS)
    }
  })

  it('the 402s offer exact with assetTransferMethod permit2, and upto with the facilitator address', async () => {
    const exact = await fetch(`${api.url}/exact-permit2`)
    expect(exact.status).toBe(402)
    const reqE = JSON.parse(Buffer.from(exact.headers.get('PAYMENT-REQUIRED') ?? '', 'base64').toString()) as { accepts: { scheme: string; extra: Record<string, unknown> }[] }
    expect(reqE.accepts[0]).toMatchObject({ scheme: 'exact', extra: { assetTransferMethod: 'permit2' } })
    const upto = await fetch(`${api.url}/upto`)
    const reqU = JSON.parse(Buffer.from(upto.headers.get('PAYMENT-REQUIRED') ?? '', 'base64').toString()) as { accepts: { scheme: string; amount: string; extra: Record<string, unknown> }[] }
    expect(reqU.accepts[0]).toMatchObject({ scheme: 'upto', amount: UPTO_MAX.toString(), extra: { assetTransferMethod: 'permit2', facilitatorAddress: api.facilitatorAddress } })
  })

  it('exact via Permit2: 200, settled through the exact proxy, balances move by the price, a replay is refused', async () => {
    const sent: Request[] = []
    const spy: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      sent.push(req.clone())
      return fetch(req)
    }
    const before = { payer: await token.balanceOf(payer.address), merchant: await token.balanceOf(merchant) }
    const n = api.settlements.length
    const res = await wrapFetchWithPayment(spy, client())(`${api.url}/exact-permit2`)
    expect(res.status).toBe(200)
    expect(decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '').success).toBe(true)
    expect(api.settlements.length).toBe(n + 1)
    const s = api.settlements.at(-1)
    expect(s).toMatchObject({ scheme: 'exact', assetTransferMethod: 'permit2', amount: EXACT_PRICE.toString() })
    const tx = await pub().getTransaction({ hash: s?.transaction ?? '0x' })
    expect(tx.to?.toLowerCase()).toBe(X402_EXACT_PERMIT2_PROXY.toLowerCase())
    expect((await pub().getTransactionReceipt({ hash: tx.hash })).status).toBe('success')
    expect(await token.balanceOf(payer.address)).toBe(before.payer - EXACT_PRICE)
    expect(await token.balanceOf(merchant)).toBe(before.merchant + EXACT_PRICE)

    const header = sent.find((r) => r.headers.has('PAYMENT-SIGNATURE'))?.headers.get('PAYMENT-SIGNATURE')
    expect(header).toBeTruthy()
    const replay = await fetch(`${api.url}/exact-permit2`, { headers: { 'PAYMENT-SIGNATURE': header ?? '' } })
    expect(replay.status).not.toBe(200)
    expect(api.settlements.length).toBe(n + 1)
    expect(await token.balanceOf(payer.address)).toBe(before.payer - EXACT_PRICE)
  })

  it('upto: signs the maximum, the server settles what it charged, balances move by exactly that', async () => {
    const sent: Request[] = []
    const spy: typeof fetch = async (input, init) => {
      const req = new Request(input, init)
      sent.push(req.clone())
      return fetch(req)
    }
    const before = { payer: await token.balanceOf(payer.address), merchant: await token.balanceOf(merchant) }
    const n = api.settlements.length
    const res = await wrapFetchWithPayment(spy, client())(`${api.url}/upto`)
    expect(res.status).toBe(200)
    const receipt = decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '')
    expect(receipt.success).toBe(true)
    expect(api.settlements.length).toBe(n + 1)
    const s = api.settlements.at(-1)
    expect(s).toMatchObject({ scheme: 'upto', assetTransferMethod: 'permit2', amount: UPTO_CHARGE.toString() })
    const tx = await pub().getTransaction({ hash: s?.transaction ?? '0x' })
    expect(tx.to?.toLowerCase()).toBe(X402_UPTO_PERMIT2_PROXY.toLowerCase())
    expect(tx.from.toLowerCase()).toBe(api.facilitatorAddress.toLowerCase())
    expect(await token.balanceOf(payer.address)).toBe(before.payer - UPTO_CHARGE)
    expect(await token.balanceOf(merchant)).toBe(before.merchant + UPTO_CHARGE)

    // The signed payload carried the maximum and named the facilitator.
    const header = sent.find((r) => r.headers.has('PAYMENT-SIGNATURE'))?.headers.get('PAYMENT-SIGNATURE') ?? ''
    const payload = JSON.parse(Buffer.from(header, 'base64').toString()) as {
      payload: { permit2Authorization: { permitted: { amount: string }; spender: string; witness: { to: string; facilitator: string } } }
    }
    const auth = payload.payload.permit2Authorization
    expect(auth.permitted.amount).toBe(UPTO_MAX.toString())
    expect(auth.spender.toLowerCase()).toBe(X402_UPTO_PERMIT2_PROXY.toLowerCase())
    expect(auth.witness.facilitator.toLowerCase()).toBe(api.facilitatorAddress.toLowerCase())
    expect(auth.witness.to.toLowerCase()).toBe(merchant.toLowerCase())
  })

  it('the upto proxy refuses a facilitator not named in the witness, and more than the signed maximum', async () => {
    const now = BigInt(Math.floor(Date.now() / 1000))
    const permit = { permitted: { token: token.address, amount: 1_000n }, nonce: 77n, deadline: now + 300n }
    const witness = { to: merchant, facilitator: api.facilitatorAddress, validAfter: 0n }
    const signature = await payer.signTypedData({
      domain: { name: 'Permit2', chainId: anvil.chain.id, verifyingContract: PERMIT2_ADDRESS },
      types: uptoTypes,
      primaryType: 'PermitWitnessTransferFrom',
      message: { ...permit, spender: X402_UPTO_PERMIT2_PROXY, witness },
    })
    const callAs = async (from: Address, amount: bigint): Promise<string> => {
      try {
        await pub().simulateContract({
          account: from,
          address: X402_UPTO_PERMIT2_PROXY,
          abi: uptoProxyAbi,
          functionName: 'settle',
          args: [permit, amount, payer.address, witness, signature],
        })
        return 'ok'
      } catch (err) {
        const data = findRevertData(err)
        return data ? decodeErrorResult({ abi: uptoProxyAbi, data }).errorName : String(err)
      }
    }
    expect(await callAs(stranger.address, 500n)).toBe('UnauthorizedFacilitator')
    expect(await callAs(api.facilitatorAddress, 1_001n)).toBe('AmountExceedsPermitted')
    expect(await callAs(api.facilitatorAddress, 1_000n)).toBe('ok')
    // And a stranger's real transaction moves nothing.
    const before = await token.balanceOf(payer.address)
    const wallet = createWalletClient({ chain: anvil.chain, transport: http(anvil.rpcUrl), account: stranger })
    const hash = await wallet.writeContract({
      address: X402_UPTO_PERMIT2_PROXY,
      abi: uptoProxyAbi,
      functionName: 'settle',
      args: [permit, 500n, payer.address, witness, signature],
      gas: 300_000n,
    })
    expect((await pub().waitForTransactionReceipt({ hash })).status).toBe('reverted')
    expect(await token.balanceOf(payer.address)).toBe(before)
  })
})

function findRevertData(err: unknown): Hex | undefined {
  let e = err as { data?: unknown; cause?: unknown } | undefined
  for (let i = 0; i < 10 && e; i++) {
    if (typeof e.data === 'string' && e.data.startsWith('0x')) return e.data as Hex
    if (e.data && typeof e.data === 'object' && typeof (e.data as { data?: unknown }).data === 'string') return (e.data as { data: Hex }).data
    e = e.cause as typeof e
  }
  return undefined
}
