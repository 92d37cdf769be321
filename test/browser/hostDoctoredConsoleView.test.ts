import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import type { Policy } from '../../shared/schemas/policy.js'
import { type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * Attack (malicious host vs the owner console, in a real browser): the host rewrites its answer to
 * GET /v1/owner/wallets. (1) It serves a doctored policy text under the real hash (token decimals 6 → 18):
 * the editor's "changes against the installed policy" and the permit form's amounts would be computed from it,
 * while the wallet prompt shows only a hash and base units. (2) It puts markup in agent-chosen text (label,
 * pending describe/host): lit must render it as text. The console must refuse to edit or issue permits from the
 * doctored text, and no injected element may appear.
 */
describe('console against a host that doctors the wallet view', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '100000', rolling24h: '10000' }))
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('refuses the doctored policy (no editor, no permit form) and renders injected markup as text', async () => {
    const { page } = b
    await page.route('**/v1/owner/wallets', async (route) => {
      const res = await route.fetch()
      const body = (await res.json()) as { wallets: WalletInfo[] }
      for (const w of body.wallets)
        for (const a of w.agents) {
          ;(a as { label: string }).label = XSS
          if (!a.policy) continue
          const p = JSON.parse(a.policy.json) as Policy
          a.policy.json = JSON.stringify({ ...p, tokens: p.tokens.map((t) => ({ ...t, decimals: 18, symbol: XSS })) })
        }
      await route.fulfill({ response: res, json: body })
    })
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').click()
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    await agent.waitFor({ timeout: 15_000 })
    await expect.poll(() => agent.getByTestId('policy-untrusted').count(), { timeout: 10_000 }).toBe(1)
    expect(await agent.getByTestId('edit-policy').isDisabled()).toBe(true)
    expect(await agent.getByTestId('permit-form').count()).toBe(0)
    // The label is shown as text, never parsed as markup.
    expect(await agent.locator('h3').textContent()).toContain('<img src=x')
    expect(await page.locator('img[src=x]').count()).toBe(0)
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined()
    // Served by the host it talks to: no foreign-host warning; pointed elsewhere with ?host=, a warning first.
    expect(await page.getByTestId('foreign-host').count()).toBe(0)
    await page.goto(`${s.stack.url}/?host=${encodeURIComponent('https://evil.example')}`)
    await expect.poll(() => page.getByTestId('foreign-host').textContent(), { timeout: 10_000 }).toContain('https://evil.example')
    // Nothing but the read token was signed.
    expect(b.signed.map((x) => x.primaryType)).toEqual(['AuditRead'])
  }, 60_000)
})
