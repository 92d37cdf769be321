import { AsyncLocalStorage } from 'node:async_hooks'
import { x402Client } from '@x402/core/client'
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client'
import { UptoEvmScheme } from '@x402/evm/upto/client'
import { BursarAuthCaptureScheme } from './authCaptureScheme.js'
import { BursarBatchSettlementScheme, type BursarBatchSettlementOptions, type Preflight, type SignatureBinding, type WithBinding } from './batchSettlementScheme.js'
import { loadAgentKey } from './loadAgentKey.js'
import { bounded402Text } from './bounded402Text.js'
import { postSignedRequest } from './postSignedRequest.js'
import { toAgentError } from './toAgentError.js'
import { toJsonValue } from './toJsonValue.js'
import { toRequirementsJson } from './toRequirementsJson.js'
import { NETWORKS } from '@x402/evm/v1'
import { wrapFetchWithPayment } from '@x402/fetch'
import type { LocalAccount } from 'viem/accounts'
import { BaseError } from '../shared/errors/base.js'
import { type BursarAccountParameters, bursarAccount } from './bursarAccount.js'
import {
  PaymentIdentifierStore,
  generatePaymentId,
  offeredPaymentIdentifier,
  purchaseFingerprint,
  withPaymentIdentifier,
} from './paymentIdentifier.js'
import type { AgentRequestContext } from './requestSignature.js'

export type CreatePayingFetchParameters = Omit<BursarAccountParameters, 'context' | 'fetch'> & {
  /** The fetch to wrap for resource requests (default globalThis.fetch); host calls use globalThis.fetch. */
  fetch?: typeof globalThis.fetch | undefined
  /** Default reason recorded with every payment (≤ 280 chars); a per-call `reason` overrides it. */
  reason?: string | undefined
  /**
   * The x402 schemes this fetch pays with, in order of preference when a 402 offers several
   * (default `['exact', 'upto', 'batch-settlement', 'auth-capture']`). Whatever is chosen, the enclave's policy decides.
   */
  schemes?: readonly PayingScheme[] | undefined
  /** batch-settlement: where channel state is kept and how the escrow is read (defaults: in memory, no chain reads). */
  batchSettlement?: BursarBatchSettlementOptions | undefined
  /**
   * Where payment identifiers are remembered (default: a new in-memory store per fetch). Share one store
   * between fetches that may retry each other's purchases.
   */
  paymentIdentifiers?: PaymentIdentifierStore | undefined
}

/** Per call: `reason` (advisory, audited) and `paymentId`, the purchase's idempotency key (x402 `payment-identifier`). */
export type PayingFetchOptions = { reason?: string | undefined; paymentId?: string | undefined }

/**
 * `exact` (EIP-3009 or Permit2, as the server asks), `upto` (a Permit2 maximum the server settles within) and
 * `batch-settlement` (an escrow deposit, then vouchers with a running total) and `auth-capture` (an authorization
 * into an escrow the operator captures from).
 */
export type PayingScheme = 'exact' | 'upto' | 'batch-settlement' | 'auth-capture'

export type PayingFetch = ((input: FetchInput, init?: RequestInit, options?: PayingFetchOptions) => Promise<Response>) & {
  /** The bursar viem Account behind this fetch (usable with viem clients too). */
  account: LocalAccount
}

type FetchInput = Parameters<typeof globalThis.fetch>[0]

type CallContext = {
  resourceUrl: string
  reason: string | undefined
  paymentId: string | undefined
  requirements?: AgentRequestContext['requirements']
  /** Context bound to one signature (a batch channel, an auth-capture PaymentInfo): set for that signature only. */
  binding?: SignatureBinding | undefined
  error?: unknown
}

/**
 * `fetch` that pays x402 402s through bursar: @x402/fetch + the reference
 * EVM schemes (`exact` v2 by EIP-3009 or Permit2, and v1 network names;
 * `upto`; `batch-settlement`; `auth-capture`) + a bursarAccount. The
 * resource URL and the 402's selected requirements travel to the enclave as
 * advisory context. A refused payment rethrows the typed bursar error and
 * sends no payment header. Budget limits are the enclave's job, so the x402
 * client's own USD spend caps are off.
 *
 * Idempotency (x402 `payment-identifier`): a call given `paymentId` pays at
 * most once for that identifier. The first call signs; a retry of the same
 * purchase (same resource and selected offer) sends the identical payment
 * payload (the same signature, no new enclave request: counted once); the
 * identifier with another purchase is refused (PaymentIdConflictError) before
 * anything is signed. When the server's 402 offers the extension, the
 * identifier goes into the payload (`extensions['payment-identifier'].info.id`)
 * so the merchant deduplicates too; a server that requires one and a call
 * without `paymentId` gets a fresh identifier.
 */
export function createPayingFetch(params: CreatePayingFetchParameters): PayingFetch {
  const {
    fetch: resourceFetch,
    reason: defaultReason,
    schemes = ['exact', 'upto', 'batch-settlement', 'auth-capture'],
    paymentIdentifiers = new PaymentIdentifierStore(),
    batchSettlement,
    ...accountParams
  } = params
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
        ...c.binding,
      }
    },
  })

  // The first offer in the caller's order of schemes (the client has already kept only registered ones).
  const rank = (r: PaymentRequirements) => schemes.indexOf(r.scheme as PayingScheme)
  const client = new IdempotentX402Client(
    (_v, offers) => [...offers].sort((a, b) => rank(a) - rank(b))[0] as PaymentRequirements,
    () => store.getStore(),
    paymentIdentifiers,
  )
  client.setSpendControls(false)
  if (schemes.includes('exact')) {
    client.register('eip155:*', new ExactEvmScheme(account))
    for (const name of NETWORKS) client.registerV1(name, new ExactEvmSchemeV1(account))
  }
  if (schemes.includes('upto')) client.register('eip155:*', new UptoEvmScheme(account))
  // batch-settlement and auth-capture: each signature is made with what it is for in the request context.
  const bind: WithBinding = async (binding, sign) => {
    const c = store.getStore()
    if (!c) throw new Error('x402 escrow signing outside a paying fetch call')
    c.binding = binding
    try {
      return await sign()
    } finally {
      c.binding = undefined
    }
  }
  const preflight: Preflight = async (td, binding) => {
    const key = typeof accountParams.agentKey === 'string' ? loadAgentKey(accountParams.agentKey) : accountParams.agentKey
    const host = accountParams.host ?? key.host
    const typedData = { domain: toJsonValue(td.domain ?? {}), types: toJsonValue(td.types), primaryType: td.primaryType, message: toJsonValue(td.message ?? {}) }
    const c = store.getStore()
    const { body } = await postSignedRequest({
      host: host!,
      agentKey: key,
      wallet: (accountParams.wallet ?? key.wallet ?? account.address) as `0x${string}`,
      path: '/v1/agent/sign',
      fields: { op: 'signTypedData', typedData, context: { ...(c?.requirements ? { requirements: c.requirements } : {}), ...(c && c.resourceUrl.length <= 2048 ? { resourceUrl: c.resourceUrl } : {}), ...binding }, dryRun: true },
    })
    const b = body as { dryRun?: boolean; verdict?: string }
    if (b.dryRun === true && b.verdict !== 'allow') throw toAgentError({ status: 403, body })
  }
  if (schemes.includes('batch-settlement')) client.register('eip155:*', new BursarBatchSettlementScheme(account, bind, batchSettlement, preflight))
  if (schemes.includes('auth-capture')) client.register('eip155:*', new BursarAuthCaptureScheme(account, bind))
  client.onBeforePaymentCreation(async ({ selectedRequirements }) => {
    const c = store.getStore()
    if (c) c.requirements = toRequirementsJson(selectedRequirements)
  })
  client.onPaymentCreationFailure(async ({ error }) => {
    const c = store.getStore()
    if (c && c.error === undefined) c.error = error
  })
  const paying = wrapFetchWithPayment(bounded402(resourceFetch ?? globalThis.fetch), client)

  const payingFetch = async (input: FetchInput, init?: RequestInit, options?: PayingFetchOptions) => {
    const resourceUrl = input instanceof Request ? input.url : String(input)
    const ctx: CallContext = { resourceUrl, reason: options?.reason ?? defaultReason, paymentId: options?.paymentId }
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

/**
 * x402Client with payment identifiers: under a caller's `paymentId` the
 * payload is made once (PaymentIdentifierStore) and reused for a retry of
 * the same purchase; the identifier is echoed into the payload when the
 * server offers the extension.
 */
class IdempotentX402Client extends x402Client {
  constructor(
    selector: ConstructorParameters<typeof x402Client>[0],
    private readonly call: () => CallContext | undefined,
    private readonly ids: PaymentIdentifierStore,
  ) {
    super(selector)
  }

  override async createPaymentPayload(paymentRequired: PaymentRequired): Promise<PaymentPayload> {
    const c = this.call()
    const offered = paymentRequired.x402Version >= 2 ? offeredPaymentIdentifier(paymentRequired.extensions) : undefined
    const id = c?.paymentId ?? (offered?.required ? generatePaymentId() : undefined)
    const create = async () => {
      const payload = await super.createPaymentPayload(paymentRequired)
      return offered && id ? withPaymentIdentifier(payload, paymentRequired, id) : payload
    }
    if (!c?.paymentId || !id) return create()
    // The offer super() will pay (same filters, policies and selector); private in the typings, public at runtime.
    const select = (this as unknown as { selectPaymentRequirements: (v: number, r: PaymentRequirements[]) => PaymentRequirements })
      .selectPaymentRequirements
    const selected = select.call(this, paymentRequired.x402Version, paymentRequired.accepts)
    try {
      return await this.ids.once(id, purchaseFingerprint(paymentRequired, c.resourceUrl, selected), create)
    } catch (err) {
      // Refusals made here (outside super's failure hooks) are surfaced typed too.
      if (c.error === undefined) c.error = err
      throw err
    }
  }
}

/** rt42: a 402's body is read here, bounded (bounded402Text), before @x402/fetch reads it whole; other answers (the paid resource) pass untouched. */
function bounded402(inner: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const res = await inner(input, init)
    if (res.status !== 402) return res
    const text = await bounded402Text(res)
    // The caller may read the 402 it ends with (an unpaid or refused retry): its url and redirected as fetch gave them.
    return Object.defineProperties(new Response(text, { status: 402, statusText: res.statusText, headers: res.headers }), { url: { value: res.url }, redirected: { value: res.redirected } })
  }
}

function findBaseError(err: unknown): BaseError | undefined {
  let e: unknown = err
  for (let i = 0; i < 8 && e instanceof Error; i++, e = e.cause) if (e instanceof BaseError) return e
  return undefined
}
