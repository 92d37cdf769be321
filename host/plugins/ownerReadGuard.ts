import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { AUDIT_READ_SCHEME, verifyAuditReadToken } from '../../shared/owner/auditReadAuth.js'

/**
 * UNTRUSTED host, access control for audit reads. The log is tamper-evident
 * without it; this only keeps one owner from reading another's decisions.
 * Modes: 'owner' (default) — `Authorization: Bursar-Owner <token>` (an
 * owner-signed AuditRead, scope = that owner's wallets) or `Bearer
 * <BURSAR_AUDIT_TOKEN>` (operator/auditor, scope = the whole log); 'open' —
 * everyone reads everything (simulation convenience).
 */
export type AuditAuthMode = 'owner' | 'open'
export type AuditScope = { kind: 'all'; via: 'open' | 'operator' } | { kind: 'owner'; owner: `0x${string}` }
export type AuditAuthFailure = { status: 401; code: string; message: string }
export type OwnerReadGuardParameters = {
  mode: AuditAuthMode
  /** BURSAR_AUDIT_TOKEN: the operator/auditor bearer token (none = no operator access). */
  operatorToken?: string | undefined
  /** This host's origins: an owner token must name one (its audience), so one signed for another host is refused. */
  origins?: (() => readonly string[]) | undefined
  now?: (() => number) | undefined
}

const HOW =
  'Send Authorization: Bursar-Owner <token> (`bursar audit token` signs one with your owner key) or, as the operator, Authorization: Bearer <BURSAR_AUDIT_TOKEN>'
const CACHE_MAX = 1_000

/** Builds the authorizer the audit routes call: request → scope, or a 401 to send. */
export function ownerReadGuard(params: OwnerReadGuardParameters) {
  const now = params.now ?? Date.now
  const operatorDigest = params.operatorToken ? digest(params.operatorToken) : null
  // Verified owner tokens (recovery costs ~1 ms); entries drop at expiry.
  const cache = new Map<string, { owner: `0x${string}`; expiresAt: number }>()
  return async (req: FastifyRequest): Promise<AuditScope | AuditAuthFailure> => {
    if (params.mode === 'open') return { kind: 'all', via: 'open' }
    const header = req.headers.authorization
    if (!header) return { status: 401, code: 'audit_read_unauthorized', message: `Audit reads need credentials. ${HOW}` }
    const space = header.indexOf(' ')
    const scheme = space < 0 ? header : header.slice(0, space)
    const value = space < 0 ? '' : header.slice(space + 1).trim()
    if (scheme.toLowerCase() === 'bearer') {
      // SECURITY: constant-time compare of fixed-length digests.
      if (operatorDigest && timingSafeEqual(digest(value), operatorDigest)) return { kind: 'all', via: 'operator' }
      return {
        status: 401,
        code: 'audit_operator_token_invalid',
        message: operatorDigest ? 'The bearer token is not BURSAR_AUDIT_TOKEN' : 'This host has no operator token (BURSAR_AUDIT_TOKEN unset)',
      }
    }
    if (scheme.toLowerCase() !== AUDIT_READ_SCHEME.toLowerCase())
      return { status: 401, code: 'audit_read_unauthorized', message: `Unknown authorization scheme. ${HOW}` }
    const t = now()
    const hit = cache.get(value)
    if (hit && hit.expiresAt > t) return { kind: 'owner', owner: hit.owner }
    const v = await verifyAuditReadToken({ token: value, now: t, origins: params.origins?.() ?? [] })
    if (!v.ok) {
      const fix =
        v.code === 'audit_token_malformed'
          ? HOW
          : v.code === 'audit_token_wrong_host'
            ? 'Sign one for the URL you read from (`bursar audit token --host <url>`); behind a proxy the operator sets BURSAR_PUBLIC_URL or BURSAR_READ_ORIGINS'
            : 'Sign a fresh one: `bursar audit token` (owner key)'
      return { status: 401, code: v.code, message: `${v.message}. ${fix}` }
    }
    if (cache.size >= CACHE_MAX) cache.clear()
    cache.set(value, { owner: v.owner, expiresAt: v.expiresAt })
    return { kind: 'owner', owner: v.owner }
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}
