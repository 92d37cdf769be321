import { lookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'

/**
 * UNTRUSTED host: where an OWNER-chosen webhook may point. Any wallet owner (not the operator) picks the URL, so
 * the host must not become their proxy into its own network: loopback, private, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, unspecified and multicast addresses are refused, as literals at PUT time and after
 * DNS resolution at delivery time (a name that later resolves inward is caught then). Operator-configured URLs
 * (BURSAR_WEBHOOKS) and simulation (BURSAR_WEBHOOK_ALLOW_HTTP=1, tests on loopback) skip this.
 */
export function isInternalAddress(ip: string): boolean {
  let a = ip.toLowerCase()
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped) a = mapped[1]!
  const v = isIP(a)
  if (v === 4) {
    const [x, y] = a.split('.').map(Number) as [number, number]
    return (
      x === 0 || x === 10 || x === 127 || (x === 100 && y >= 64 && y < 128) || (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y < 32) || (x === 192 && y === 168) || (x === 198 && (y === 18 || y === 19)) || x >= 224
    )
  }
  if (v === 6) {
    if (a === '::' || a === '::1') return true
    if (/^::ffff:/.test(a)) return true // hex-form mapped IPv4: refuse rather than decode
    if (/^f[cd]/.test(a) || /^fe[89ab]/.test(a) || /^ff/.test(a)) return true
    // SECURITY: IPv6 spellings of an IPv4 destination are judged by that address: NAT64 64:ff9b::/96 (a NAT64
    // gateway reaches 10/8 and metadata through it), 6to4 2002::/16; the NAT64 local-use prefix 64:ff9b:1::/48 and
    // IPv4-compatible ::/96 are refused (test/adversarial/webhookSsrfViaEmbeddedIpv4).
    const h = hextets(a)
    if (!h) return true
    const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
    if (h[0] === 0x64 && h[1] === 0xff9b && h[2] === 1) return true
    if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return isInternalAddress(v4(h[6]!, h[7]!))
    if (h[0] === 0x2002) return isInternalAddress(v4(h[1]!, h[2]!))
    if (h.slice(0, 6).every((x) => x === 0)) return true
    if (h.slice(0, 4).every((x) => x === 0) && h[4] === 0xffff && h[5] === 0) return true // IPv4-translated ::ffff:0:0/96
    return false
  }
  return false
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included), or null. */
function hextets(a: string): number[] | null {
  let t = a.replace(/%.*$/, '')
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(t)
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number]
    t = `${t.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`
  }
  const [head, tail, more] = t.split('::')
  if (more !== undefined) return null
  const parse = (x: string | undefined) => (x ? x.split(':').map((g) => Number.parseInt(g, 16)) : [])
  const hi = parse(head)
  const lo = parse(tail)
  const out = tail === undefined ? hi : [...hi, ...Array(8 - hi.length - lo.length).fill(0), ...lo]
  return out.length === 8 && out.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? out : null
}

/** Why an owner's webhook URL is refused (null when allowed): its host is a literal internal address or a local name. */
export function internalTargetReason(url: string): string | null {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return 'not a URL'
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local'))
    return `${host} is a local name`
  if (isInternalAddress(host)) return `${host} is a loopback, private or link-local address`
  // new URL() normalises decimal/hex/octal IPv4 forms (http://2130706433/) to dotted quads, so they land above.
  return null
}

export type ResolvedAddress = { address: string; family: 4 | 6 }
export type ResolveTargetOptions = {
  /** DNS (default node:dns lookup, every address). Tests pass a resolver that changes its answer (rebinding). */
  resolve?: ((host: string) => Promise<ResolvedAddress[]>) | undefined
  /** The address test (default isInternalAddress). */
  isInternal?: ((ip: string) => boolean) | undefined
}

/**
 * Delivery time: resolves the URL's host ONCE and checks every address it got; the delivery then connects to the
 * returned address (postJson `pinned`) and never asks DNS again. SECURITY: a name that answers a public address to
 * this check and an internal one to a second lookup (DNS rebinding, TTL 0) cannot redirect the connection inward.
 */
export async function resolveTarget(url: string, opts: ResolveTargetOptions = {}): Promise<{ ok: true; pinned: ResolvedAddress } | { ok: false; reason: string }> {
  const internal = opts.isInternal ?? isInternalAddress
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return { ok: false, reason: 'not a URL' }
  }
  if (!opts.isInternal) {
    const literal = internalTargetReason(url)
    if (literal) return { ok: false, reason: literal }
  }
  const v = isIP(host)
  if (v) return internal(host) ? { ok: false, reason: `${host} is a loopback, private or link-local address` } : { ok: true, pinned: { address: host, family: v as 4 | 6 } }
  let addrs: ResolvedAddress[]
  try {
    addrs = opts.resolve ? await opts.resolve(host) : ((await lookup(host, { all: true })) as ResolvedAddress[])
  } catch (err) {
    return { ok: false, reason: `${host} does not resolve (${(err as Error).message})` }
  }
  if (addrs.length === 0) return { ok: false, reason: `${host} does not resolve` }
  const bad = addrs.find((x) => internal(x.address))
  if (bad) return { ok: false, reason: `${host} resolves to ${bad.address}` }
  return { ok: true, pinned: addrs[0]! }
}

/** Resolves the URL's host and refuses when any address is internal (delivery time; DNS can change after PUT). */
export async function resolvesInternal(url: string): Promise<string | null> {
  const r = await resolveTarget(url)
  return r.ok ? null : r.reason
}

/**
 * POSTs JSON and answers the status (0: no answer in time, or no connection). With `pinned`, the socket goes to
 * that address whatever DNS says now (TLS still checks the certificate against the URL's host name, and the Host
 * header is the URL's). Redirects are not followed.
 */
export function postJson(url: string, body: unknown, opts: { pinned?: ResolvedAddress | undefined; timeoutMs: number; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url)
    const mod = u.protocol === 'https:' ? https : http
    const data = Buffer.from(JSON.stringify(body))
    const pinned = opts.pinned
    const req = mod.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...opts.headers },
        timeout: opts.timeoutMs,
        agent: false,
        ...(pinned
          ? {
              // Both callback shapes: one address, or every address (Node's happy-eyeballs asks with all: true).
              lookup: ((_host: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
                o?.all ? cb(null, [pinned]) : cb(null, pinned.address, pinned.family)) as never,
            }
          : {}),
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', () => resolve(0))
      },
    )
    const timer = setTimeout(() => req.destroy(new Error('timeout')), opts.timeoutMs)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve(0))
    req.on('close', () => clearTimeout(timer))
    req.end(data)
  })
}
