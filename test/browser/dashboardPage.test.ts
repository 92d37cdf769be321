import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * The read-only `/dashboard` page after wallet reads needed a token: a stranger (no token) sees no wallet, the
 * owner who pastes a read token sees theirs. Its script declared `token` and `headers` twice in one function
 * (a SyntaxError): the page showed nothing to anyone, owner included.
 */
describe('/dashboard read-only page (real host + enclave, real browser)', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('shows nothing to a stranger and the wallets to their owner, without script errors', async () => {
    const { page } = b
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${s.stack.url}/dashboard`)
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toContain('Enclave')
    expect((await page.locator('#wallets').textContent())!.toLowerCase()).not.toContain(s.wallet.toLowerCase())
    const token = await signAuditReadToken({ account: s.owner, host: s.stack.url, expiresAt: Date.now() + 600_000 })
    await page.locator('#token').fill(`${AUDIT_READ_SCHEME} ${token}`)
    await expect.poll(async () => (await page.locator('#wallets').textContent())!.toLowerCase(), { timeout: 10_000 }).toContain(s.wallet.toLowerCase())
    await expect.poll(() => page.locator('#auditNote').textContent(), { timeout: 10_000 }).toContain('your wallets only')
    expect(errors).toEqual([])
  }, 60_000)
})
