import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * Attack (clickjacking): another site frames the genuine owner console (transparent iframe under its own buttons)
 * and steers the owner's clicks onto Connect, Approve, Co-sign or Revoke. The wallet prompt that follows names the
 * console's real origin, so it looks legitimate; the owner believes they are signing in to the other site.
 *
 * Fix: the console and the read-only dashboard refuse to be framed (CSP frame-ancestors 'none', X-Frame-Options).
 */
describe('the owner console framed by another origin', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  let evil: Server
  let evilUrl = ''
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
    evil = createServer((req, res) => {
      const path = req.url === '/dashboard' ? '/dashboard' : '/'
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>Claim your prize</p><iframe id="f" style="opacity:0.01" width="1000" height="700" src="${s.stack.url}${path}"></iframe>`)
    })
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r))
    // Another origin: localhost, not 127.0.0.1 (the host's URL).
    evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}`
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
    await new Promise((r) => evil?.close(r))
  })

  it('does not render inside the frame (console and dashboard)', async () => {
    const { page } = b
    // Control: the console renders at its own origin.
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').waitFor({ timeout: 15_000 })
    for (const path of ['/', '/dashboard']) {
      await page.goto(`${evilUrl}${path}`)
      await page.waitForTimeout(1_500)
      const frame = page.frames().find((f) => f !== page.mainFrame())
      const content = frame ? await frame.content().catch(() => '') : ''
      expect(content, path).not.toContain('owner console')
      expect(content, path).not.toContain('Read token')
    }
  }, 60_000)
})
