import type { AgentRequest } from './agentRequest.js'

type O = Record<string, unknown>
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const UINT = /^(0|[1-9][0-9]*)$/
const TOP = new Set(['v', 'agentId', 'wallet', 'nonce', 'issuedAt', 'expiresAt', 'op', 'typedData', 'context'])
const TYPED = new Set(['domain', 'types', 'primaryType', 'message'])
const TYPED_FIELD = new Set(['name', 'type'])
const DOMAIN = new Set(['name', 'version', 'chainId', 'verifyingContract', 'salt'])
const CONTEXT = new Set(['resourceUrl', 'reason', 'requirements'])
const REQS = new Set(['scheme', 'network', 'asset', 'amount', 'payTo', 'maxTimeoutSeconds', 'extra'])

/**
 * Issue 18 (cpu38): AgentRequestSchema's parse of the one hot shape (signTypedData; the SDKs' context without
 * `batchChannel`/`authCapture`, no permit, no dry run) by direct checks: zod cost ~10 % of a payment's enclave CPU.
 * undefined for any other shape or any doubt, and the caller hands that to zod, so zod still decides every refusal
 * (with its message) and every other request. The value is built as zod builds it (a schema's key order, records
 * copied, no `__proto__` keys): typedDataRequestFast.test.ts holds it equal to zod's on generated valid and invalid
 * requests, and that it never accepts what zod refuses.
 */
export function typedDataRequestFast(j: unknown): AgentRequest | undefined {
  if (!only(j, TOP) || j.v !== 1 || j.op !== 'signTypedData') return undefined
  const { agentId, wallet, nonce, issuedAt, expiresAt, context, typedData: t } = j
  if (!str(agentId, /^agt_[0-9a-f]{40}$/) || !str(wallet, ADDRESS) || !str(nonce, /^[0-9a-f]{32}$/) || !u(issuedAt) || !u(expiresAt)) return undefined
  if (!only(t, TYPED) || !only(t.domain, DOMAIN) || typeof t.primaryType !== 'string' || !record(t.message) || !record(t.types)) return undefined
  const d = t.domain
  if (!opt(d.name, 'string') || !opt(d.version, 'string') || (d.salt !== undefined && !str(d.salt, /^0x[0-9a-fA-F]*$/))) return undefined
  if (d.verifyingContract !== undefined && !str(d.verifyingContract, ADDRESS)) return undefined
  if (d.chainId !== undefined && !Number.isSafeInteger(d.chainId) && !str(d.chainId, UINT)) return undefined
  const types: O = {}
  for (const [k, fields] of Object.entries(t.types)) {
    if (!Array.isArray(fields)) return undefined
    const out = []
    for (const f of fields) {
      if (!only(f, TYPED_FIELD) || typeof f.name !== 'string' || typeof f.type !== 'string') return undefined
      out.push({ name: f.name, type: f.type })
    }
    types[k] = out
  }
  const ctx = context === undefined ? undefined : contextOf(context)
  if (ctx === null) return undefined
  const typedData = { domain: pick(d, DOMAIN), types, primaryType: t.primaryType, message: { ...(t.message as O) } }
  return { v: 1, agentId, wallet, nonce, issuedAt, expiresAt, ...(ctx && { context: ctx }), op: 'signTypedData', typedData } as AgentRequest
}

function contextOf(c: unknown): O | null {
  if (!only(c, CONTEXT)) return null
  if ((c.resourceUrl !== undefined && !(typeof c.resourceUrl === 'string' && c.resourceUrl.length <= 2048)) || (c.reason !== undefined && !(typeof c.reason === 'string' && c.reason.length <= 280))) return null
  const r = c.requirements
  if (r === undefined) return pick(c, CONTEXT)
  if (!only(r, REQS) || !['scheme', 'network', 'asset', 'amount', 'payTo'].every((k) => typeof r[k] === 'string')) return null
  if (!(r.maxTimeoutSeconds === undefined || Number.isFinite(r.maxTimeoutSeconds)) || !(r.extra === undefined || record(r.extra))) return null
  const requirements = pick(r, REQS)
  if (r.extra !== undefined) requirements.extra = { ...(r.extra as O) }
  return { ...pick(c, CONTEXT), requirements }
}

/** A plain object whose keys are all in `keys` (so no `__proto__` key either). */
function only(v: unknown, keys: ReadonlySet<string>): v is O {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return false
  for (const k in v) if (!keys.has(k)) return false
  return true
}
/** A plain object for z.record(z.string(), …) whose copy zod would make the same (no own `__proto__` key). */
function record(v: unknown): v is O {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype && !Object.hasOwn(v, '__proto__')
}
/** `o`'s keys present in `keys`, in the set's (the schema's) order. */
function pick(o: O, keys: ReadonlySet<string>): O {
  const out: O = {}
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k]
  return out
}
const str = (v: unknown, re: RegExp): v is string => typeof v === 'string' && re.test(v)
const u = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const opt = (v: unknown, type: 'string'): boolean => v === undefined || typeof v === type
