import { AsyncLocalStorage } from 'node:async_hooks'
import { x402Client } from '@x402/core/client'
import type { PaymentRequirements } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import { NETWORKS } from '@x402/evm/v1'
import { wrapFetchWithPayment } from '@x402/fetch'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../shared/errors/base.js'
import { type BursarAccountParameters, bursarAccount } from './bursarAccount.js'
import type { AgentRequestContext } from './requestSignature.js'

export type CreatePayingFetchParameters = Omit<BursarAccountParameters, 'context' | 'fetch'> & {
  /** The fetch to wrap for resource requests (default globalThis.fetch); host calls use globalThis.fetch. */
  fetch?: typeof globalThis.fetch | undefined
  /** Default reason recorded with every payment (≤ 280 chars); a per-call `reason` overrides it. */
  reason?: string | undefined
  /**
   * The x402 schemes this fetch pays with, in order of preference when a 402 offers several
   * (default `['exact', 'upto']`). Whatever is chosen, the enclave's policy decides.
   */
  schemes?: readonly PayingScheme[] | undefined
}

/** `exact` (EIP-3009 or Permit2, as the server asks) and `upto` (a Permit2 maximum the server settles within). */
export type PayingScheme = 'exact' | 'upto'

export type PayingFetch = ((input: FetchInput, init?: RequestInit, options?: { reason?: string }) => Promise<Response>) & {
  /** The bursar viem Account behind this fetch (usable with viem clients too). */
  account: LocalAccount
}

type FetchInput = Parameters<typeof globalThis.fetch>[0]

type CallContext = { resourceUrl: string; reason: string | undefined; requirements?: AgentRequestContext['requirements']; error?: unknown }

/**
 * `fetch` that pays x402 402s through bursar: @x402/fetch + the reference
 * EVM schemes (`exact` v2 by EIP-3009 or Permit2, and v1 network names;
 * `upto`) + a bursarAccount. The
 * resource URL and the 402's selected requirements travel to the enclave as
 * advisory context. A refused payment rethrows the typed bursar error and
 * sends no payment header. Budget limits are the enclave's job, so the x402
 * client's own USD spend caps are off.
 */
export function createPayingFetch(params: CreatePayingFetchParameters): PayingFetch {
  const { fetch: resourceFetch, reason: defaultReason, schemes = ['exact', 'upto'], ...accountParams } = params
  const store = new AsyncLocalStorage<CallContext>()
  const account = bursarAccount({
    ...accountParams,
    context: () => {
      const c = store.getStore()
      if (!c) return undefined
      return {
        ...(c.resourceUrl.length <= 2048 ? { resourceUrl: c.resourceUrl } : {}),
        ...(c.reason ? { reason: c.reason.slice(0, 280) } : {}),
        ...(c.requirements ? { requirements: c.requirements } : {}),
      }
    },
  })

  // The first offer in the caller's order of schemes (the client has already kept only registered ones).
  const rank = (r: PaymentRequirements) => schemes.indexOf(r.scheme as PayingScheme)
  const client = new x402Client((_v, offers) => [...offers].sort((a, b) => rank(a) - rank(b))[0] as PaymentRequirements)
  client.setSpendControls(false)
  if (schemes.includes('exact')) {
    client.register('eip155:*', new ExactEvmScheme(account))
    for (const name of NETWORKS) client.registerV1(name, new ExactEvmSchemeV1(account))
  }
  if (schemes.includes('upto')) client.register('eip155:*', new UptoEvmScheme(account))
  client.onBeforePaymentCreation(async ({ selectedRequirements }) => {
    const c = store.getStore()
    if (c) c.requirements = toRequirementsJson(selectedRequirements)
  })
  client.onPaymentCreationFailure(async ({ error }) => {
    const c = store.getStore()
    if (c && c.error === undefined) c.error = error
  })
  const paying = wrapFetchWithPayment(resourceFetch ?? globalThis.fetch, client)

  const payingFetch = async (input: FetchInput, init?: RequestInit, options?: { reason?: string }) => {
    const resourceUrl = input instanceof Request ? input.url : String(input)
    const ctx: CallContext = { resourceUrl, reason: options?.reason ?? defaultReason }
    return store.run(ctx, async () => {
      try {
        return await paying(input, init)
      } catch (err) {
        // @x402/fetch wraps signer errors in a plain Error; surface the typed bursar error instead.
        const typed = ctx.error instanceof BaseError ? ctx.error : findBaseError(err)
        throw typed ?? err
      }
    })
  }
  return Object.assign(payingFetch, { account })
}

/** The requirements as the wire schema wants them (v1's maxAmountRequired read as amount). */
function toRequirementsJson(r: PaymentRequirements): AgentRequestContext['requirements'] {
  const v1 = r as PaymentRequirements & { maxAmountRequired?: string }
  return {
    scheme: r.scheme,
    network: r.network,
    asset: r.asset,
    amount: r.amount ?? v1.maxAmountRequired ?? '',
    payTo: r.payTo,
    ...(typeof r.maxTimeoutSeconds === 'number' ? { maxTimeoutSeconds: r.maxTimeoutSeconds } : {}),
    ...(r.extra ? { extra: r.extra } : {}),
  }
}

function findBaseError(err: unknown): BaseError | undefined {
  let e: unknown = err
  for (let i = 0; i < 8 && e instanceof Error; i++, e = e.cause) if (e instanceof BaseError) return e
  return undefined
}
