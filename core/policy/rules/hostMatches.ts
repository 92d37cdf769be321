/** True if `host` equals `pattern`, or `pattern` is `*.suffix` and host is a strict subdomain of suffix. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
  return pattern === host
}
