import type { Hex, LocalAccount } from 'viem'
import { recoverTypedDataAddress } from 'viem'
import * as z from 'zod'
import { OWNER_DOMAIN } from './ownerActTypes.js'

/**
 * Owner read tokens (wallet views, audit log, webhook settings): an EIP-712
 * `AuditRead { owner, host, expiresAt }` (domain OWNER_DOMAIN, host = the
 * origin of the bursar host it is for, e.g. `https://bursar.example`,
 * expiresAt in ms since the epoch) signed by the owner's key, sent as
 * `Authorization: Bursar-Owner <base64url(JSON {owner, host, expiresAt,
 * signature})>`. It is a short-lived bearer credential: it grants reading
 * the owner's wallets on that host until it expires. SECURITY: a host accepts
 * only tokens naming one of its own origins, so a token handed to another
 * host (a `?host=` phishing link) cannot be replayed here. It authorizes no
 * act (a different primary type from every owner act).
 */
export const AUDIT_READ_TYPES = {
  AuditRead: [
    { name: 'owner', type: 'address' },
    { name: 'host', type: 'string' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

/** The `Authorization` scheme name. */
export const AUDIT_READ_SCHEME = 'Bursar-Owner'
/** Longest lifetime a host accepts (a token is a bearer credential). */
export const AUDIT_READ_MAX_LIFETIME_MS = 24 * 60 * 60 * 1000

export const AuditReadTokenSchema = z
  .object({
    owner: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    host: z.string().min(1).max(256),
    expiresAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  })
  .strict()
export type AuditReadToken = z.infer<typeof AuditReadTokenSchema>

/** The origin a token names for a host URL (`https://Bursar.example:443/x` → `https://bursar.example`). */
export function readTokenOrigin(url: string): string {
  return new URL(url).origin
}

export type SignAuditReadTokenParameters = {
  account: LocalAccount
  /** The bursar host the token is for (its URL or origin); only a host serving that origin accepts it. */
  host: string
  expiresAt: number
}

/** Signs a read token with the owner key; returns the value for `Authorization: Bursar-Owner <token>`. */
export async function signAuditReadToken(params: SignAuditReadTokenParameters): Promise<string> {
  const host = readTokenOrigin(params.host)
  const signature = await params.account.signTypedData({
    domain: OWNER_DOMAIN,
    types: AUDIT_READ_TYPES,
    primaryType: 'AuditRead',
    message: { owner: params.account.address, host, expiresAt: BigInt(params.expiresAt) },
  })
  const token: AuditReadToken = { owner: params.account.address, host, expiresAt: params.expiresAt, signature }
  return base64Url(JSON.stringify(token))
}

/** base64url of UTF-8 text without Buffer, so the browser console signs tokens with this same function. */
function base64Url(text: string): string {
  let bin = ''
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export type VerifyAuditReadTokenParameters = {
  token: string
  now: number
  /** This host's own origins (readTokenOrigin of each URL it is reached at): the token must name one. */
  origins: readonly string[]
  maxLifetimeMs?: number | undefined
}
export type VerifyAuditReadTokenReturnType =
  | { ok: true; owner: Hex; host: string; expiresAt: number }
  | {
      ok: false
      code: 'audit_token_malformed' | 'audit_token_expired' | 'audit_token_lifetime_too_long' | 'audit_token_invalid' | 'audit_token_wrong_host'
      message: string
    }

/** Checks a read token (the base64url part): well-formed, for one of `origins`, not expired, not too long-lived, signed by `owner`. A verdict, never a throw. */
export async function verifyAuditReadToken(params: VerifyAuditReadTokenParameters): Promise<VerifyAuditReadTokenReturnType> {
  let parsed: AuditReadToken
  try {
    if (params.token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(params.token)) throw new TypeError('not base64url')
    const r = AuditReadTokenSchema.safeParse(JSON.parse(Buffer.from(params.token, 'base64url').toString('utf8')))
    if (!r.success) throw r.error
    parsed = r.data
  } catch {
    return { ok: false, code: 'audit_token_malformed', message: 'The read token is not base64url(JSON {owner, host, expiresAt, signature})' }
  }
  // SECURITY: the audience. A token the owner signed for another host (which may be the attacker's) is refused here.
  if (!params.origins.includes(parsed.host))
    return { ok: false, code: 'audit_token_wrong_host', message: `The read token is for ${JSON.stringify(parsed.host.slice(0, 80))}, not this host (${params.origins.join(', ') || 'no origin configured'})` }
  if (parsed.expiresAt <= params.now) return { ok: false, code: 'audit_token_expired', message: 'The read token has expired: sign a new one' }
  if (parsed.expiresAt - params.now > (params.maxLifetimeMs ?? AUDIT_READ_MAX_LIFETIME_MS))
    return { ok: false, code: 'audit_token_lifetime_too_long', message: 'The read token expires too far ahead: sign one that lives at most 24 h' }
  let signer: string
  try {
    signer = await recoverTypedDataAddress({
      domain: OWNER_DOMAIN,
      types: AUDIT_READ_TYPES,
      primaryType: 'AuditRead',
      message: { owner: parsed.owner as Hex, host: parsed.host, expiresAt: BigInt(parsed.expiresAt) },
      signature: parsed.signature as Hex,
    })
  } catch {
    return { ok: false, code: 'audit_token_invalid', message: 'The read token signature does not recover' }
  }
  // SECURITY: the token grants exactly the recovered signer's wallets; a claimed owner that did not sign gets nothing.
  if (signer.toLowerCase() !== parsed.owner.toLowerCase())
    return { ok: false, code: 'audit_token_invalid', message: 'The read token is not signed by its owner' }
  return { ok: true, owner: parsed.owner as Hex, host: parsed.host, expiresAt: parsed.expiresAt }
}
