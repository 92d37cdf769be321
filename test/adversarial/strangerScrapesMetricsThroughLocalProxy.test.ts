import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Stack, startStack } from '../../scripts/lib/startStack.js'

/**
 * A reverse proxy on the host machine, as its own process: listens on 127.0.0.1, forwards every request to the host
 * over loopback with the headers its configuration adds (JSON in argv), answers with what the host answered.
 */
const PROXY = `
const http = require('node:http')
const [target, add] = [process.argv[1], JSON.parse(process.argv[2])]
const t = new URL(target)
http.createServer((req, res) => {
  const headers = { ...req.headers, ...add }
  const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res) })
  up.on('error', () => { res.writeHead(502); res.end() })
  req.pipe(up)
}).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n') })
`

async function startProxy(target: string, add: Record<string, string>): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-e', PROXY, target, JSON.stringify(add)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer]
  return { url: `http://127.0.0.1:${chunk.toString().trim()}`, proc }
}

/**
 * Attack (stranger, rt36b on fix35's rule): a host bound beyond loopback without BURSAR_METRICS_TOKEN, fronted by a
 * reverse proxy on the same machine. fix35 served /metrics to any loopback peer without Forwarded, X-Forwarded-For or
 * X-Real-IP — but common same-machine fronts forward with other spellings only: nginx configured for TLS with
 * `proxy_set_header Host $host; proxy_set_header X-Forwarded-Proto $scheme;` (no X-Forwarded-For), Varnish / Squid
 * (Via), cloudflared (Cf-Connecting-Ip), Akamai / Cloudflare Enterprise (True-Client-IP), others X-Client-IP or
 * X-Forwarded-Host. Each made a stranger's scrape through it look local: the operator's payment figures to the
 * internet. Fix: any forwarding header (Forwarded, Via, X-Forwarded-*, X-Real-IP, *-Client-IP, Cf-Connecting-Ip,
 * X-Original-Forwarded-For) or a Host that is not a loopback name (a proxy passing the public name on) is a proxy:
 * `metrics_token_unset`. A proxy that adds nothing and rewrites Host to 127.0.0.1 still looks local (documented: set
 * the token).
 */
describe('adversarial: a stranger scrapes /metrics through a same-machine reverse proxy', () => {
  let open: Stack
  const proxies: ChildProcess[] = []
  beforeAll(async () => {
    open = await startStack({ env: { BURSAR_BIND: '0.0.0.0' } })
  }, 60_000)
  afterAll(async () => {
    for (const p of proxies) p.kill('SIGKILL')
    await open?.stop()
  })

  const fronts: Array<[string, Record<string, string>]> = [
    ['nginx TLS front (Host $host, X-Forwarded-Proto)', { host: 'wallet.example.com', 'x-forwarded-proto': 'https' }],
    ['X-Forwarded-Proto only', { 'x-forwarded-proto': 'https' }],
    ['X-Forwarded-Host only', { 'x-forwarded-host': 'wallet.example.com' }],
    ['Varnish / Squid (Via)', { via: '1.1 varnish (Varnish/7.4)' }],
    ['cloudflared (Cf-Connecting-Ip)', { 'cf-connecting-ip': '203.0.113.9' }],
    ['True-Client-IP', { 'true-client-ip': '203.0.113.9' }],
    ['X-Client-IP', { 'x-client-ip': '203.0.113.9' }],
    ['the public Host name alone', { host: 'wallet.example.com' }],
  ]

  for (const [name, add] of fronts) {
    it(`${name}: 403 metrics_token_unset, nothing of the figures`, async () => {
      const proxy = await startProxy(open.url, add)
      proxies.push(proxy.proc)
      // The proxy forwards (other routes answer through it) ...
      expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200)
      // ... and a stranger's scrape through it is not served.
      const res = await fetch(`${proxy.url}/metrics`)
      const text = await res.text()
      expect(text).not.toContain('bursar_signatures_total')
      expect(res.status).toBe(403)
      expect((JSON.parse(text) as { code: string }).code).toBe('metrics_token_unset')
    })
  }

  it('this machine still scrapes directly over loopback (127.0.0.1, localhost and [::1] Host names)', async () => {
    const port = new URL(open.url).port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      const res = await fetch(`${open.url}/metrics`, { headers: { host } })
      expect(res.status, host).toBe(200)
      expect(await res.text()).toContain('bursar_signatures_total')
    }
  })
})
