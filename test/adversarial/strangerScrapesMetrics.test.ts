import { randomBytes } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Stack, startStack } from '../../scripts/lib/startStack.js'

/** This machine's first non-loopback IPv4 address: a request to it comes from it, not from 127.0.0.1. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address

/**
 * Attack (stranger): a host bound beyond loopback (BURSAR_BIND=0.0.0.0) without BURSAR_METRICS_TOKEN served
 * GET /metrics to anyone: payments allowed and denied per refusal code, pending approvals, state size and latency —
 * the operator's business figures and a live view of the wallets' activity. Fix: without a token only this machine
 * scrapes (a loopback peer no proxy forwarded: no Forwarded / X-Forwarded-For / X-Real-IP); anyone else gets
 * `metrics_token_unset` (403) saying to set the token. With a token every scrape needs it (`metrics_unauthorized`).
 * The harness's own scrapes (tests, bench, `make sim`) come from 127.0.0.1 and still work.
 */
describe('adversarial: a stranger scrapes /metrics', () => {
  let open: Stack
  let guarded: Stack
  const token = `mt_${randomBytes(16).toString('hex')}`
  const scrape = (base: string, headers: Record<string, string> = {}) => fetch(`${base}/metrics`, { headers })
  const refusal = async (res: Response) => ({ status: res.status, body: (await res.json()) as { code: string; message: string } })
  const port = (s: Stack) => new URL(s.url).port

  beforeAll(async () => {
    ;[open, guarded] = await Promise.all([startStack({ env: { BURSAR_BIND: '0.0.0.0' } }), startStack({ env: { BURSAR_BIND: '0.0.0.0', BURSAR_METRICS_TOKEN: token } })])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([open?.stop(), guarded?.stop()])
  })

  it('no token: this machine scrapes over loopback; through a proxy it is refused with a code that says to set the token', async () => {
    const own = await scrape(open.url)
    expect(own.status).toBe(200)
    expect(await own.text()).toContain('bursar_signatures_total')
    for (const headers of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }] as Record<string, string>[]) {
      const r = await refusal(await scrape(open.url, headers))
      expect(r.status).toBe(403)
      expect(r.body.code).toBe('metrics_token_unset')
      expect(r.body.message).toContain('BURSAR_METRICS_TOKEN')
      expect(JSON.stringify(r.body)).not.toContain('bursar_')
    }
  })

  it.skipIf(!external)('no token: a peer on another address is refused (403 metrics_token_unset), other routes still answer it', async () => {
    const base = `http://${external}:${port(open)}`
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    const r = await refusal(await scrape(base))
    expect(r.status).toBe(403)
    expect(r.body.code).toBe('metrics_token_unset')
  })

  it('token set: every scrape needs it, loopback included; with it, another address scrapes', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token-at-all' }, { authorization: token }] as Record<string, string>[]) {
      const r = await refusal(await scrape(guarded.url, headers))
      expect(r.status).toBe(401)
      expect(r.body.code).toBe('metrics_unauthorized')
    }
    const bearer = { authorization: `Bearer ${token}` }
    for (const base of [guarded.url, ...(external ? [`http://${external}:${port(guarded)}`] : [])]) {
      const ok = await scrape(base, { ...bearer, 'x-forwarded-for': '203.0.113.9' })
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('bursar_signatures_total')
    }
  })
})
