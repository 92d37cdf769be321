import { lookup } from 'node:dns/promises'
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
    return false
  }
  return false
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

/** Resolves the URL's host and refuses when any address is internal (delivery time; DNS can change after PUT). */
export async function resolvesInternal(url: string): Promise<string | null> {
  const literal = internalTargetReason(url)
  if (literal) return literal
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (isIP(host)) return null
  try {
    const addrs = await lookup(host, { all: true })
    const bad = addrs.find((x) => isInternalAddress(x.address))
    return bad ? `${host} resolves to ${bad.address}` : null
  } catch (err) {
    return `${host} does not resolve (${(err as Error).message})`
  }
}
