import { randomBytes } from 'node:crypto'
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types'
import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import { AGENT_ERROR_CODES, BursarRequestError, PaymentIdConflictError, RequestOutcomeUnknownError } from './errors.js'

/**
 * x402's `payment-identifier` extension (spec and reference helpers:
 * `@x402/extensions/payment-identifier`): the server declares
 * `extensions['payment-identifier'] = { info: { required }, schema }` in its
 * 402; the client echoes it with `info.id`, an idempotency key of 16–128
 * characters `[A-Za-z0-9_-]`, in its payment payload. A proper retry resends
 * the exact same signed payload, so the merchant can deduplicate.
 */
export const PAYMENT_IDENTIFIER = 'payment-identifier'
const ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/

/** A fresh identifier in the reference format (`pay_` + 32 hex). */
export function generatePaymentId(): string {
  return `pay_${randomBytes(16).toString('hex')}`
}

export function isValidPaymentId(id: string): boolean {
  return ID_PATTERN.test(id)
}

/** The server's declaration, if its 402 offers the extension. */
export function offeredPaymentIdentifier(extensions: PaymentRequired['extensions']): { required: boolean } | undefined {
  const decl = extensions?.[PAYMENT_IDENTIFIER] as { info?: { required?: unknown } } | undefined
  if (!decl || typeof decl !== 'object' || !decl.info || typeof decl.info !== 'object') return undefined
  return { required: decl.info.required === true }
}

/** The payload's extensions with the identifier appended to the server's declaration (spec: echo + `info.id`). */
export function withPaymentIdentifier(payload: PaymentPayload, paymentRequired: PaymentRequired, id: string): PaymentPayload {
  const decl = paymentRequired.extensions?.[PAYMENT_IDENTIFIER] as { info: Record<string, unknown> }
  return {
    ...payload,
    extensions: { ...payload.extensions, [PAYMENT_IDENTIFIER]: { ...decl, info: { ...decl.info, id } } },
  }
}

/** What must be the same for a retry to be "the same purchase": protocol version, resource and the selected offer. */
export function purchaseFingerprint(paymentRequired: PaymentRequired, resourceUrl: string, selected: PaymentRequirements): string {
  return canonicalJson({ v: paymentRequired.x402Version, resource: paymentRequired.resource?.url ?? resourceUrl, accepted: selected })
}

type Entry = { fingerprint: string; payload: Promise<PaymentPayload> }

/**
 * The SDK's memory of payment identifiers: one identifier = one signed
 * payment. The first use signs (through the enclave, under policy); a retry of
 * the same purchase (same fingerprint) gets the identical payload, the same
 * signature, without a new request to the enclave, so the ledger and the
 * audit hold it once; a concurrent retry awaits the first. The identifier with
 * another purchase is refused (`payment_id_conflict`), nothing signed. A first
 * use the enclave refused (nothing signed) is forgotten, so the retry asks
 * again; one whose outcome is unknown (RequestOutcomeUnknownError) is kept
 * and its retry rethrows that error: never a silent second payment.
 * Held in memory (bounded, oldest first out): a new process does not know
 * the identifiers of the last one.
 */
export class PaymentIdentifierStore {
  readonly #entries = new Map<string, Entry>()
  constructor(readonly maxEntries = 10_000) {}

  async once(id: string, fingerprint: string, create: () => Promise<PaymentPayload>): Promise<PaymentPayload> {
    if (!isValidPaymentId(id))
      throw new BursarRequestError(AGENT_ERROR_CODES.request_invalid, 'payment identifier must be 16-128 characters of A-Z a-z 0-9 _ -', {
        details: id.slice(0, 140),
      })
    const seen = this.#entries.get(id)
    if (seen) {
      if (seen.fingerprint !== fingerprint)
        throw new PaymentIdConflictError(`payment identifier ${id} was already used for another purchase`, { paymentId: id })
      return seen.payload
    }
    const entry: Entry = { fingerprint, payload: create() }
    this.#entries.set(id, entry)
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    try {
      return await entry.payload
    } catch (err) {
      // Only an outcome the SDK cannot know pins the identifier; a refusal signed nothing, so a retry may ask again.
      if (!findOutcomeUnknown(err) && this.#entries.get(id) === entry) this.#entries.delete(id)
      throw err
    }
  }
}

function findOutcomeUnknown(err: unknown): boolean {
  let e: unknown = err
  for (let i = 0; i < 8 && e instanceof Error; i++, e = e.cause) if (e instanceof RequestOutcomeUnknownError) return true
  return false
}
