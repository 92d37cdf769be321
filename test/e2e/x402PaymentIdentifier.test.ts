import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Hex, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAgentStatus } from '../../agent/agentRead.js'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import { PaymentIdConflictError } from '../../agent/errors.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { PaymentIdentifierStore } from '../../agent/paymentIdentifier.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'
import { auditEntries, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const CHAIN = 84532
const PRICE = 10_000n

type Payload = {
  payload: { authorization: Record<string, string>; signature: Hex }
  extensions?: Record<string, { info?: { id?: string; required?: boolean } }>
  accepted: { extra: { name: string; version: string }; asset: Address }
}
const decode = (header: string) => JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Payload

/**
 * x402 `payment-identifier` through bursar, real processes: anvil +
 * FiatTokenV2_2, the sim enclave and host, a reference `@x402/express` server
 * that offers the extension and deduplicates by it, the reference facilitator
 * settling on anvil. One identifier = one signature, counted once.
 */
describe('x402 payment-identifier: one identifier, one signed payment', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let stack: Stack
  let api: StartPaidApiReturnType
  let owner: ReturnType<typeof privateKeyToAccount>
  let wallet: Address
  let merchant: Address
  let agentKey: AgentKey

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN })
    const [deployer, admin, facilitator, ownerKey, merchantKey] = anvil.accounts
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    owner = privateKeyToAccount(ownerKey!)
    merchant = privateKeyToAccount(merchantKey!).address
    stack = await startStack()
    wallet = (await new OwnerClient(stack.url, owner).createWallet('agents')).wallet
    await token.mint(wallet, 1_000_000n)
    api = await startPaidApi({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      asset: token.address,
      facilitatorKey: facilitator!,
      payTo: merchant,
      price: PRICE,
      v1: false,
      paymentIdentifier: true,
      routes: { 'GET /paid': {}, 'GET /dearer': { price: 2n * PRICE } },
    })
    const policy = {
      version: 1,
      timeZone: 'UTC',
      tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
      budgets: [{ chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '200000' }],
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
      ],
    }
    agentKey = (await setupAgent({ host: stack.url, owner, wallet, policy })).agentKey
    await waitAgentFloor()
  }, 120_000)
  afterAll(async () => {
    await api?.stop()
    await stack?.stop()
    await anvil?.stop()
  })

  const allowed = async () =>
    (await auditEntries(stack.url, owner, { agent: agentKey.agentId })).filter((e) => e.event === 'sign_allowed').length
  const used = async () => (await readAgentStatus({ host: stack.url, agentKey, wallet })).budgets[0]!.rolling24h!.used

  /** A resource fetch that records payment headers; `dropNext` loses the merchant's answer after it settled. */
  const recorder = () => {
    const headers: string[] = []
    let dropNext = false
    const fetchFn: typeof fetch = async (input, init) => {
      const h = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
      const header = h.get('PAYMENT-SIGNATURE')
      if (header) headers.push(header)
      const res = await fetch(input, init)
      if (header && dropNext) {
        dropNext = false
        await res.arrayBuffer()
        throw new TypeError('fetch failed: connection reset after the request was sent')
      }
      return res
    }
    return { headers, fetch: fetchFn, drop: () => void (dropNext = true) }
  }

  it('a retried payment identifier returns the identical signature and the ledger counts it once', async () => {
    const rec = recorder()
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet, fetch: rec.fetch })
    const id = 'pay_retry_0123456789abcdef'
    const before = await token.balanceOf(merchant)
    const [allowedBefore, usedBefore] = [await allowed(), BigInt(await used())]

    // The merchant settles, then the answer is lost on the way back: the agent sees a network error.
    rec.drop()
    await expect(pay(`${api.url}/paid`, undefined, { paymentId: id })).rejects.toThrow(/fetch failed/)
    expect(api.settlements.length).toBe(1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)

    // The agent retries the same purchase under the same identifier, also concurrently.
    const retries = await Promise.all([1, 2, 3].map(() => pay(`${api.url}/paid`, undefined, { paymentId: id })))
    for (const res of retries) {
      expect(res.status).toBe(200)
      expect(((await res.json()) as { replayed?: boolean }).replayed).toBe(true)
    }

    // Identical bytes every time: the same EIP-3009 authorization and signature, the identifier in the payload.
    expect(rec.headers.length).toBe(4)
    expect(new Set(rec.headers).size).toBe(1)
    const p = decode(rec.headers[0]!)
    expect(p.extensions?.['payment-identifier']?.info?.id).toBe(id)
    const a = p.payload.authorization
    const signer = await recoverTypedDataAddress({
      domain: { name: p.accepted.extra.name, version: p.accepted.extra.version, chainId: CHAIN, verifyingContract: p.accepted.asset },
      types: {
        TransferWithAuthorization: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'validAfter', type: 'uint256' },
          { name: 'validBefore', type: 'uint256' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: a.from as Address,
        to: a.to as Address,
        value: BigInt(a.value!),
        validAfter: BigInt(a.validAfter!),
        validBefore: BigInt(a.validBefore!),
        nonce: a.nonce as Hex,
      },
      signature: p.payload.signature,
    })
    expect(signer.toLowerCase()).toBe(wallet.toLowerCase())

    // The merchant deduplicated; one settlement, one balance move, one enclave signature, one ledger entry.
    expect(api.paymentIds.map((x) => x.outcome)).toEqual(['new', 'replayed', 'replayed', 'replayed'])
    expect(api.settlements.length).toBe(1)
    expect(await token.balanceOf(merchant)).toBe(before + PRICE)
    expect(await allowed()).toBe(allowedBefore + 1)
    expect(BigInt(await used())).toBe(usedBefore + PRICE)
  })

  it('the same identifier for another purchase is refused (payment_id_conflict): nothing signed, no payment header', async () => {
    const rec = recorder()
    const pay = createPayingFetch({ host: stack.url, agentKey, wallet, fetch: rec.fetch })
    const id = 'pay_conflict_0123456789abcdef'
    expect((await pay(`${api.url}/paid`, undefined, { paymentId: id })).status).toBe(200)
    const [allowedBefore, usedBefore, settled, headers] = [await allowed(), await used(), api.settlements.length, rec.headers.length]
    const balance = await token.balanceOf(merchant)

    // Another price (and resource) under the same identifier.
    const err = await pay(`${api.url}/dearer`, undefined, { paymentId: id }).catch((e) => e)
    expect(err).toBeInstanceOf(PaymentIdConflictError)
    expect((err as PaymentIdConflictError).code).toBe('payment_id_conflict')
    expect(rec.headers.length).toBe(headers)
    expect(await allowed()).toBe(allowedBefore)
    expect(await used()).toBe(usedBefore)
    expect(api.settlements.length).toBe(settled)
    expect(await token.balanceOf(merchant)).toBe(balance)

    // A new identifier is a new purchase.
    expect((await pay(`${api.url}/dearer`, undefined, { paymentId: 'pay_conflict_fedcba9876543210' })).status).toBe(200)
    expect(BigInt(await used())).toBe(BigInt(usedBefore) + 2n * PRICE)
  })

  it('with the default in-memory store a restarted agent does not remember the identifier: the merchant refuses the second payload (409); the enclave counted its signature', async () => {
    const id = 'pay_restart_0123456789abcdef'
    const first = createPayingFetch({ host: stack.url, agentKey, wallet })
    expect((await first(`${api.url}/paid`, undefined, { paymentId: id })).status).toBe(200)
    const [allowedBefore, settled, balance] = [await allowed(), api.settlements.length, await token.balanceOf(merchant)]

    // A restarted agent (a fresh SDK, no memory of the identifier) signs a new authorization under it.
    const restarted = createPayingFetch({ host: stack.url, agentKey, wallet })
    const res = await restarted(`${api.url}/paid`, undefined, { paymentId: id })
    expect(res.status).toBe(409)
    expect(api.paymentIds.at(-1)?.outcome).toBe('conflict')
    expect(api.settlements.length).toBe(settled)
    expect(await token.balanceOf(merchant)).toBe(balance)
    // That authorization is valid and left the agent: the enclave counts it (conservative, never under-counted).
    expect(await allowed()).toBe(allowedBefore + 1)
  })

  it('with a file-backed identifier store, a restarted agent resends the identical payload: replayed, counted once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bursar-payid-')), 'ids.jsonl')
    const id = 'pay_persisted_0123456789abcdef'
    const rec = recorder()
    const first = createPayingFetch({ host: stack.url, agentKey, wallet, fetch: rec.fetch, paymentIdentifiers: new PaymentIdentifierStore({ file }) })
    rec.drop()
    await expect(first(`${api.url}/paid`, undefined, { paymentId: id })).rejects.toThrow(/fetch failed/)
    const [allowedBefore, usedBefore, settled, balance] = [await allowed(), await used(), api.settlements.length, await token.balanceOf(merchant)]

    const restarted = createPayingFetch({ host: stack.url, agentKey, wallet, fetch: rec.fetch, paymentIdentifiers: new PaymentIdentifierStore({ file }) })
    const res = await restarted(`${api.url}/paid`, undefined, { paymentId: id })
    expect(res.status).toBe(200)
    expect(rec.headers.length).toBe(2)
    expect(rec.headers[1]).toBe(rec.headers[0])
    expect(api.paymentIds.at(-1)).toMatchObject({ id, outcome: 'replayed' })
    expect(api.settlements.length).toBe(settled)
    expect(await token.balanceOf(merchant)).toBe(balance)
    expect(await allowed()).toBe(allowedBefore)
    expect(await used()).toBe(usedBefore)
  })
})
