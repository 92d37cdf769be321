import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { canonicalJson } from '../canonical/canonicalJson.js'

/** The seam's two directions; a message of one is never accepted as the other (the tag is MACed and checked). */
export const VIEW_DOMAIN = 'bursar.gov.view.v1'
export const DECISION_DOMAIN = 'bursar.gov.decision.v1'
export type LinkDomain = typeof VIEW_DOMAIN | typeof DECISION_DOMAIN

/**
 * SECURITY (issue 12, the governance split): one message on the signer ↔ governance link, as bytes: the domain tag,
 * the hex HMAC-SHA-256 under the 32-byte link key over `tag \n body`, and the body (canonical JSON), one per line.
 */
export function sealLink(key: Uint8Array, domain: LinkDomain, body: unknown): Uint8Array {
  const json = canonicalJson(body)
  return Buffer.from(`${domain}\n${mac(key, domain, json)}\n${json}`, 'utf8')
}

/** The body of a link message of `domain` whose MAC checks, or null (other tag, other key, altered bytes). */
export function openLink(key: Uint8Array, domain: LinkDomain, bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8')
  const [tag, got, ...rest] = text.split('\n')
  const json = rest.join('\n')
  if (tag !== domain || got === undefined || !/^[0-9a-f]{64}$/.test(got)) return null
  if (!timingSafeEqual(Buffer.from(got, 'hex'), Buffer.from(mac(key, domain, json), 'hex'))) return null
  try {
    return JSON.parse(json)
  } catch {
    return null
  }
}

/** SHA-256 of a link message's bytes: what a decision names as the view it read. */
export function linkHash(bytes: Uint8Array): `0x${string}` {
  return `0x${createHash('sha256').update(bytes).digest('hex')}`
}

function mac(key: Uint8Array, domain: string, json: string): string {
  return createHmac('sha256', key).update(`${domain}\n${json}`).digest('hex')
}
