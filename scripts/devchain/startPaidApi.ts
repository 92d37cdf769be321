import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Network } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { UptoEvmScheme } from '@x402/evm/upto/server'
import { EVM_NETWORK_CHAIN_ID_MAP } from '@x402/evm/v1'
import { paymentMiddleware, setSettlementOverrides, x402ResourceServer } from '@x402/express'
import { PAYMENT_IDENTIFIER, declarePaymentIdentifierExtension, extractPaymentIdentifier } from '@x402/extensions/payment-identifier'
import express from 'express'
import type { Address, Chain, Hex } from 'viem'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { type LocalSettlement, createLocalFacilitator } from './createLocalFacilitator.js'
import { v1PaymentHandler } from './v1PaymentHandler.js'

/**
 * Dev-chain fixture: an x402 paid API on loopback, built from the reference
 * packages (`@x402/express` middleware + `x402ResourceServer`) with the
 * reference facilitator running in-process against the local chain.
 */
export type StartPaidApiParameters = {
  rpcUrl: string
  chain: Chain
  /** The FiatToken proxy address. */
  asset: Address
  payTo: Address
  /** Default price in the token's base units (USDC: 6 decimals). */
  price: bigint | string
  facilitatorKey: Hex
  /** Paid routes, `'GET /path'` → how it is paid. Default `{ 'GET /paid': {} }` (exact, EIP-3009, `price`). */
  routes?: Record<string, PaidRoute> | undefined
  /** EIP-712 domain of the asset (default USD Coin / 2). */
  tokenName?: string | undefined
  tokenVersion?: string | undefined
  /** Also serve `GET /v1/paid` in x402 v1 framing (default true when the chain has a v1 name). */
  v1?: boolean | undefined
  /**
   * Offer x402's `payment-identifier` extension on every route (`'required'`: clients must send one) and
   * deduplicate like the reference example: a settled identifier resent with the identical payload is served
   * again without a second settlement; the identifier with another payload is refused 409.
   */
  paymentIdentifier?: boolean | 'required' | undefined
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number | undefined
}

/** One paid route: the scheme it asks for and the price (upto: the signed maximum, and what the handler then charges). */
export type PaidRoute = {
  price?: bigint | string | undefined
  /** Default 'exact'. */
  scheme?: 'exact' | 'upto' | undefined
  /** exact only: 'eip3009' (default) or 'permit2' (`extra.assetTransferMethod`); upto is always Permit2. */
  assetTransferMethod?: 'eip3009' | 'permit2' | undefined
  /** upto only: the amount the handler settles (≤ price; default the price), set with setSettlementOverrides. */
  charge?: bigint | string | undefined
}

export type StartPaidApiReturnType = {
  url: string
  /** `eip155:<chainId>` */
  network: Network
  /** v1 network name, when the v1 route is served. */
  v1Network: string | undefined
  settlements: LocalSettlement[]
  /** Every request the server saw, in order, and whether it carried a payment header (PAYMENT-SIGNATURE or X-PAYMENT). */
  requests: { method: string; path: string; paymentHeader: boolean }[]
  /** With `paymentIdentifier`: every identified payment seen, the payload's hash and what the server did. */
  paymentIds: { id: string; payloadHash: string; outcome: 'new' | 'replayed' | 'conflict' }[]
  facilitatorAddress: Address
  stop: () => Promise<void>
}

/** Starts an express server on 127.0.0.1 whose routes answer 402 until paid (`exact` by EIP-3009 or Permit2, or `upto`). */
export async function startPaidApi(params: StartPaidApiParameters): Promise<StartPaidApiReturnType> {
  const network = `eip155:${params.chain.id}` as Network
  const v1Network = params.v1 === false ? undefined : v1NameFor(params.chain.id)
  const local = createLocalFacilitator({
    rpcUrl: params.rpcUrl,
    chain: params.chain,
    facilitatorKey: params.facilitatorKey,
    v1Networks: v1Network ? [v1Network] : [],
  })
  const extra = { name: params.tokenName ?? 'USD Coin', version: params.tokenVersion ?? '2' }

  const server = new x402ResourceServer(local.client).register(network, new ExactEvmScheme()).register(network, new UptoEvmScheme())
  await server.initialize()

  const routes = params.routes ?? { 'GET /paid': {} }
  const config = Object.fromEntries(
    Object.entries(routes).map(([key, r]) => [
      key,
      {
        accepts: {
          scheme: r.scheme ?? 'exact',
          network,
          payTo: params.payTo,
          price: {
            asset: params.asset,
            amount: String(r.price ?? params.price),
            extra: r.scheme !== 'upto' && r.assetTransferMethod === 'permit2' ? { ...extra, assetTransferMethod: 'permit2' } : extra,
          },
          maxTimeoutSeconds: 300,
        },
        description: `bursar devchain resource ${key}`,
        mimeType: 'application/json',
        ...(params.paymentIdentifier
          ? { extensions: { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(params.paymentIdentifier === 'required') } }
          : {}),
      },
    ]),
  )

  const app = express()
  const requests: StartPaidApiReturnType['requests'] = []
  app.use((req, _res, next) => {
    requests.push({ method: req.method, path: req.path, paymentHeader: !!(req.get('payment-signature') || req.get('x-payment')) })
    next()
  })
  const paymentIds: StartPaidApiReturnType['paymentIds'] = []
  if (params.paymentIdentifier) {
    // identifier → hash of the payload that settled under it (recorded after settlement).
    const settledIds = new Map<string, string>()
    const hashOf = (payload: unknown) => createHash('sha256').update(canonicalJson(payload)).digest('hex')
    server.onAfterSettle(async ({ paymentPayload }) => {
      const id = extractPaymentIdentifier(paymentPayload as Parameters<typeof extractPaymentIdentifier>[0])
      if (id) settledIds.set(id, hashOf(paymentPayload))
    })
    app.use((req, res, next) => {
      const header = req.get('payment-signature')
      if (!header) return next()
      let payload: Parameters<typeof extractPaymentIdentifier>[0]
      try {
        payload = JSON.parse(Buffer.from(header, 'base64').toString('utf8'))
      } catch {
        return next()
      }
      const id = extractPaymentIdentifier(payload)
      if (!id) return next()
      const payloadHash = hashOf(payload)
      const settled = settledIds.get(id)
      const outcome = settled === undefined ? 'new' : settled === payloadHash ? 'replayed' : 'conflict'
      paymentIds.push({ id, payloadHash, outcome })
      if (outcome === 'new') return next()
      if (outcome === 'conflict') return void res.status(409).json({ error: 'payment_identifier_conflict', paymentId: id })
      res.json({ ok: true, route: `${req.method} ${req.path}`, path: req.path, replayed: true })
    })
  }
  app.use(paymentMiddleware(config, server, undefined, undefined, false))
  for (const [key, r] of Object.entries(routes)) {
    const [method, path] = key.split(' ') as [string, string]
    app[method.toLowerCase() as 'get' | 'post'](path, (req, res) => {
      // upto: the server settles what the work cost, within the signed maximum.
      if (r.scheme === 'upto') setSettlementOverrides(res, { amount: String(r.charge ?? r.price ?? params.price) })
      res.json({ ok: true, route: key, path: req.path })
    })
  }
  if (v1Network) {
    app.get(
      '/v1/paid',
      v1PaymentHandler({
        facilitator: local.facilitator,
        network: v1Network,
        asset: params.asset,
        payTo: params.payTo,
        amount: String(params.price),
        extra,
        body: (req) => ({ ok: true, route: 'GET /v1/paid', path: req.path }),
      }),
    )
  }

  const listener = app.listen(params.port ?? 0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    listener.once('listening', resolve)
    listener.once('error', reject)
  })
  const { port } = listener.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    network,
    v1Network,
    settlements: local.settlements,
    requests,
    paymentIds,
    facilitatorAddress: local.address,
    stop: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve())
        listener.closeAllConnections()
      }),
  }
}

function v1NameFor(chainId: number): string | undefined {
  const hit = Object.entries(EVM_NETWORK_CHAIN_ID_MAP).find(([, id]) => id === chainId)
  return hit?.[0]
}
