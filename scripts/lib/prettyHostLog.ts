/**
 * `make sim`: the host's JSON log lines (host/logging.ts) as one readable line each, e.g.
 *   13:37:40.123 INFO  POST /v1/agent/sign 200 3.1 ms  req 6f1c…
 * Lines that are not JSON pass through unchanged. (Operators keep the JSON: this is only for the terminal.)
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' }
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'service', 'reqId', 'msg', 'method', 'route', 'path', 'status', 'ms', 'component'])

export function prettyHostLine(line: string): string {
  if (!line.startsWith('{')) return line
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : ''
  const level = LEVELS[Number(o.level)] ?? String(o.level)
  const head =
    o.msg === 'request' || o.msg === 'request failed'
      ? `${String(o.method)} ${String(o.path)} ${String(o.status)} ${String(o.ms)} ms`
      : `${o.component ? `[${String(o.component)}] ` : ''}${String(o.msg ?? '')}`
  const extra = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  const req = typeof o.reqId === 'string' ? `  req ${o.reqId.slice(0, 8)}` : ''
  return `${time} ${level} ${head}${extra.length ? `  ${extra.join(' ')}` : ''}${req}`
}

/** Pipes a stream of JSON lines to `out`, prettified line by line. */
export function pipePretty(from: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  let buf = ''
  from.setEncoding('utf8')
  from.on('data', (chunk: string) => {
    buf += chunk
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      out.write(`[host] ${prettyHostLine(buf.slice(0, nl))}\n`)
      buf = buf.slice(nl + 1)
    }
  })
}
