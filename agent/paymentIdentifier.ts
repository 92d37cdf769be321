import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
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
 * In memory (bounded, oldest first out) unless `file` is given: then every
 * paid or unknown identifier is appended (JSON lines, mode 0600) and a store
 * opened on the same file after a restart knows them.
 */
export class PaymentIdentifierStore {
  readonly #entries = new Map<string, Entry>()
  readonly maxEntries: number
  readonly file: string | undefined

  constructor(options: { maxEntries?: number | undefined; file?: string | undefined } = {}) {
    this.maxEntries = options.maxEntries ?? 10_000
    this.file = options.file
    if (this.file && existsSync(this.file))
      for (const line of readFileSync(this.file, 'utf8').split('\n')) {
        let r: Persisted
        try {
          r = JSON.parse(line) as Persisted
        } catch {
          continue // blank, or a line cut by a crash while writing it (its payload was never sent)
        }
        const payload = r.payload
          ? Promise.resolve(r.payload)
          : Promise.reject(new RequestOutcomeUnknownError(`payment identifier ${r.id}: the outcome of its request is unknown`, r.unknown!))
        payload.catch(() => {})
        this.#set(r.id, { fingerprint: r.fingerprint, payload })
      }
  }

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
    this.#set(id, entry)
    try {
      const payload = await entry.payload
      this.#persist({ id, fingerprint, payload })
      return payload
    } catch (err) {
      // Only an outcome the SDK cannot know pins the identifier; a refusal signed nothing, so a retry may ask again.
      const unknown = findOutcomeUnknown(err)
      if (unknown) this.#persist({ id, fingerprint, unknown: { requestId: unknown.requestId, expiresAt: unknown.expiresAt, attempts: unknown.attempts } })
      else if (this.#entries.get(id) === entry) this.#entries.delete(id)
      throw err
    }
  }

  #set(id: string, entry: Entry): void {
    this.#entries.delete(id)
    this.#entries.set(id, entry)
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
  }

  #persist(record: Persisted): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(record)}\n`, { mode: 0o600 })
  }
}

type Persisted = {
  id: string
  fingerprint: string
  payload?: PaymentPayload
  unknown?: { requestId: string; expiresAt: number; attempts: number }
}

function findOutcomeUnknown(err: unknown): RequestOutcomeUnknownError | undefined {
  let e: unknown = err
  for (let i = 0; i < 8 && e instanceof Error; i++, e = e.cause) if (e instanceof RequestOutcomeUnknownError) return e
  return undefined
}
