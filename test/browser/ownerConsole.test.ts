import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApprovalPendingError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { approvalDigest } from '../../shared/owner/approvalSummary.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type StackWithAgent, CHAIN_ID, MERCHANT, TOKEN, eip3009, paymentPolicy, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'
import { repoRoot } from '../helpers/startStack.js'

/**
 * The owner console in a real browser (Debian Chromium via playwright-core) against a real host + simulated
 * enclave; the owner's wallet is a test EIP-1193 provider signing with a viem local account. The page is the
 * only thing that acts as the owner here: the checks read the enclave's answers and the agent's signatures.
 */
describe('owner console in the browser (real host + enclave, injected EIP-1193 wallet)', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  let otherWallet: string
  const ask = (value: bigint) => {
    const operation = eip3009({ wallet: s.wallet, value })
    return requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation }).then((r) => ({ ...r, operation }))
  }
  const notice = () => b.page.getByTestId('notice')

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '100000', rolling24h: '10000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    // Up to 1,000 per payment on its own; above that, ask the owner.
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    // CORS open so the last test can run the console from a local copy on another origin.
    s = await stackWithAgent(policy, { env: { BURSAR_CORS_ORIGINS: '*' } })
    // Another owner's wallet on the same host: the console must not show it.
    otherWallet = (await new OwnerClient(s.stack.url, privateKeyToAccount(generatePrivateKey())).createWallet('not yours')).wallet
    b = await openConsoleBrowser({ owner: s.owner })
    await waitAgentFloor()
    // Some history for the chart and the decisions table.
    for (const v of [300n, 450n, 700n]) await ask(v)
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('connects the wallet and shows only this owner’s wallets, agents, policy and spend', async () => {
    const { page } = b
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').click()
    await expect.poll(() => page.getByTestId('owner-address').textContent(), { timeout: 15_000 }).toBe(s.owner.address)
    const wallet = page.locator(`[data-testid=wallet][data-wallet="${s.wallet}"]`)
    await wallet.waitFor()
    expect(await page.locator(`[data-wallet="${otherWallet}"]`).count()).toBe(0)
    expect(await page.getByTestId('wallet').count()).toBe(1)
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    expect(await agent.getByTestId('agent-status').textContent()).toBe('active')
    expect(await agent.getByTestId('agent-policy').textContent()).toContain('policy v1')
    // 300 + 450 + 700 spent of the 10,000 rolling cap (USDC, 6 decimals).
    expect(await agent.getByTestId('remaining-rolling').textContent()).toBe('0.00855')
    await agent.locator('.chart canvas').first().waitFor()
    // The only thing signed so far: the read token (AuditRead), never an act.
    expect(b.signed.map((x) => x.primaryType)).toEqual(['AuditRead'])
    await b.shot('wallets')
  })

  it("sets the wallet's approval webhook with a signed SetWebhook", async () => {
    const hook = b.page.getByTestId('webhook')
    await hook.locator('summary').click()
    await hook.locator('input[name=url]').fill('https://hooks.example/bursar')
    await hook.getByRole('button').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('Webhook: done')
    expect(b.signed.at(-1)).toMatchObject({ primaryType: 'SetWebhook', message: { url: 'https://hooks.example/bursar' } })
    const token = await signAuditReadToken({ account: s.owner, host: s.stack.url, expiresAt: Date.now() + 60_000 })
    const got = await fetch(`${s.stack.url}/v1/owner/webhooks/${s.wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${token}` } })
    expect(await got.json()).toMatchObject({ url: 'https://hooks.example/bursar' })
  })

  it('approve a pending request: every bound field shown, the agent’s retried payment is signed exactly once', async () => {
    const { page } = b
    const err = await ask(5_000n).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApprovalPendingError)
    const id = (err as ApprovalPendingError).pendingId!
    const card = page.locator(`[data-testid=pending][data-pending="${id}"]`)
    await card.waitFor({ timeout: 15_000 })
    expect(await card.getByTestId('bound-amount').textContent()).toBe('5000')
    expect((await card.getByTestId('bound-payTo').textContent())?.toLowerCase()).toBe(MERCHANT.toLowerCase())
    expect((await card.getByTestId('bound-asset').textContent())?.toLowerCase()).toBe(TOKEN.toLowerCase())
    expect(await card.textContent()).toContain("matches the enclave's")
    // The webhook's approve link lands on this request.
    await page.goto(`${s.stack.url}/#/approve/${s.wallet}/${id}`)
    await expect.poll(() => card.getAttribute('class'), { timeout: 15_000 }).toContain('focus')
    await b.shot('pending')
    await card.getByTestId('approve').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('done')
    // The wallet signed a ResolvePending over the digest of exactly the summary the enclave holds.
    const act = b.signed.find((x) => x.primaryType === 'ResolvePending')!
    const info = await s.client.wallet(s.wallet)
    const p = info.pending.find((x) => x.pendingId === id)!
    expect(String(act.message.wallet).toLowerCase()).toBe(s.wallet.toLowerCase())
    expect(act.message).toMatchObject({ pendingId: id, approve: true, digest: approvalDigest(p.summary as Record<string, unknown>) })
    expect(p.status).toBe('approved')
    // The agent retries the same purchase (fresh EIP-3009 nonces), eight at once: exactly one signs.
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => ask(5_000n)))
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    expect(ok.length).toBe(1)
    expect(await verifyEip3009(s.wallet, ok[0]!.operation, ok[0]!.signature as Hex)).toBe(true)
    await expect.poll(async () => (await s.client.wallet(s.wallet)).pending.find((x) => x.pendingId === id)?.status, { timeout: 15_000 }).toBe('used')
  })

  it('a host that alters the request it shows gets no approval: a mismatched digest disables Approve; a forged digest is refused by the enclave', async () => {
    const { page } = b
    const err = await ask(6_000n).catch((e: unknown) => e)
    const id = (err as ApprovalPendingError).pendingId!
    const card = page.locator(`[data-testid=pending][data-pending="${id}"]`)
    const tamper = (forgeDigest: boolean) =>
      page.route('**/v1/owner/wallets', async (route) => {
        const res = await route.fetch()
        const json = (await res.json()) as { wallets: { pending: { pendingId: string; digest: string; summary: { action: { amount: string } } }[] }[] }
        for (const w of json.wallets)
          for (const p of w.pending)
            if (p.pendingId === id) {
              p.summary.action.amount = '60'
              if (forgeDigest) p.digest = approvalDigest(p.summary as unknown as Record<string, unknown>)
            }
        await route.fulfill({ response: res, json })
      })
    // 1. The summary says 60 but the digest is the enclave's (of 6,000): the page will not sign.
    await tamper(false)
    await expect.poll(() => card.getByTestId('bound-amount').textContent(), { timeout: 15_000 }).toBe('60')
    expect(await card.textContent()).toContain('does not match: not signing')
    expect(await card.getByTestId('approve').isDisabled()).toBe(true)
    await page.unrouteAll()
    // 2. The host forges a digest to match its altered summary: the wallet signs it, the enclave refuses it.
    await tamper(true)
    await expect.poll(async () => (await card.textContent()) ?? '', { timeout: 15_000 }).toContain("matches the enclave's")
    expect(await card.getByTestId('bound-amount').textContent()).toBe('60')
    const before = b.signed.length
    await card.getByTestId('approve').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('failed')
    await page.unrouteAll()
    expect(b.signed.length).toBe(before + 1)
    expect((await s.client.wallet(s.wallet)).pending.find((x) => x.pendingId === id)?.status).toBe('pending')
    // The agent's 6,000 is still not signed.
    expect(await ask(6_000n).catch((e: unknown) => e)).toBeInstanceOf(ApprovalPendingError)
  })

  it('policy editor: an error is shown precisely (path and line), then a valid policy is signed and becomes active', async () => {
    const { page } = b
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    await agent.getByTestId('edit-policy').click()
    const editor = page.getByTestId('policy-editor')
    const text = editor.getByTestId('policy-text')
    const current = await text.inputValue()
    expect(current).toMatch(/^version: 2$/m)
    // An unquoted amount: YAML reads it as a number, the enclave's schema wants a decimal string.
    const bad = current.replace(/rolling24h: "10000"/, 'rolling24h: 20000')
    expect(bad).not.toBe(current)
    await text.fill(bad)
    const errors = editor.getByTestId('policy-errors')
    await errors.waitFor()
    const line = bad.split('\n').findIndex((l) => l.includes('rolling24h: 20000')) + 1
    expect(await errors.textContent()).toContain(`line ${line}: budgets.0.rolling24h: Invalid input: expected string, received number (YAML read this as the number 20000: quote it`)
    expect(await editor.getByTestId('policy-sign').isDisabled()).toBe(true)
    await b.shot('policy-error')
    // Valid: a larger rolling budget, and the rule asks the owner above 400 instead of 1,000.
    const good = bad.replace('rolling24h: 20000', 'rolling24h: "20000"').replace('perTx: "1000"', 'perTx: "400"')
    expect(good).toContain('perTx: "400"')
    await text.fill(good)
    await editor.getByTestId('policy-valid').waitFor()
    const diff = await editor.getByTestId('policy-diff').textContent()
    expect(diff).toContain('- version: 1')
    expect(diff).toContain('+ version: 2')
    expect(diff).toContain('+     rolling24h: "20000"')
    expect(diff).toContain('+         perTx: "400"')
    // Only what changed (and a little context): the unchanged token registry is not in the diff.
    expect(diff).not.toContain('decimals')
    // Dry run: the 450 and 700 payments (allowed under v1) would now wait for the owner; nothing else changes.
    expect(await editor.getByTestId('policy-dry-run').textContent()).toMatch(/^2 of the last \d+ decisions would change/)
    await b.shot('policy-diff')
    await editor.getByTestId('policy-sign').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('Policy v2: done')
    const a = (await s.client.wallet(s.wallet)).agents[0]!
    expect(a.policy?.version).toBe(2)
    expect(JSON.parse(a.policy!.json).budgets[0].rolling24h).toBe('20000')
    await expect.poll(() => agent.getByTestId('agent-policy').textContent(), { timeout: 15_000 }).toContain('policy v2')
  })

  it('audit view: chain intact, attestation verified against the pasted root; a tampered entry shows the chain broken', async () => {
    const { page } = b
    await page.getByTestId('tab-audit').click()
    await page.getByTestId('verify-audit').click()
    await expect.poll(() => page.getByTestId('audit-verdict').textContent(), { timeout: 15_000 }).toContain('Chain intact')
    const root = readFileSync(path.join(s.stack.dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem'), 'utf8')
    await page.getByTestId('root-pem').fill(root)
    await page.getByTestId('check-attestation').click()
    await expect.poll(() => page.getByTestId('attestation').textContent(), { timeout: 15_000 }).toContain('verified against your root')
    // From now on the receipt key backing the owner's acts and audit checks is the attested one.
    await page.getByTestId('verify-audit').click()
    await expect.poll(() => page.locator('section').first().textContent(), { timeout: 15_000 }).toContain('(verified by attestation)')
    await b.shot('audit')

    // The host's operator edits one stored decision (the 450 payment becomes 45).
    const db = new Database(path.join(s.stack.dataDir, 'bursar.db'))
    const row = db.prepare(`SELECT seq, body FROM audit_entries WHERE event = 'sign_allowed' AND body LIKE '%"amount":"450"%'`).get() as { seq: number; body: string }
    db.prepare('UPDATE audit_entries SET body = ? WHERE seq = ?').run(row.body.replace('"amount":"450"', '"amount":"45"'), row.seq)
    db.close()
    await page.getByTestId('verify-audit').click()
    await expect.poll(() => page.getByTestId('audit-verdict').textContent(), { timeout: 15_000 }).toContain(`CHAIN BROKEN at seq ${row.seq}`)
    await b.shot('audit-broken')
  })

  it('a wallet whose enclave is behind the owner’s marks is shown rolled back; Resync (signed) lets it act again', async () => {
    const { page } = b
    await page.getByRole('link', { name: 'Wallets' }).click()
    // The owner's browser holds a receipt newer than the enclave's state (as after a rollback of the host's store).
    await page.evaluate(
      ({ host, wallet }) => {
        // Runs in the page (no DOM types in the Node tsconfig).
        const store = (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage
        const marks = JSON.parse(store.getItem('bursar.ownerMarks.v1') ?? '{}')
        marks.hosts[host].wallets[wallet].ownerSeq += 3
        store.setItem('bursar.ownerMarks.v1', JSON.stringify(marks))
      },
      { host: s.stack.url, wallet: s.wallet.toLowerCase() },
    )
    await page.reload()
    await page.getByTestId('connect').click()
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    await agent.getByTestId('freeze').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('state_rollback_detected')
    await page.getByTestId('rolled-back').waitFor({ timeout: 15_000 })
    expect(((await ask(300n).catch((e: unknown) => e)) as { code?: string }).code).toBe('wallet_rolled_back')
    await b.shot('rolled-back')
    await page.getByTestId('resync').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('Resync: done')
    await expect.poll(() => page.getByTestId('rolled-back').count(), { timeout: 15_000 }).toBe(0)
    expect((await ask(300n)).signature).toMatch(/^0x/)
  })

  it('freeze, unfreeze, a permit, a budget credit, then one-click revoke (with confirm): the agent’s next request is refused', async () => {
    const { page } = b
    await page.getByRole('link', { name: 'Wallets' }).click()
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    await agent.waitFor()
    // Freeze stops the agent at once; unfreeze lets it sign again.
    await agent.getByTestId('freeze').click()
    await expect.poll(() => agent.getByTestId('agent-status').textContent(), { timeout: 15_000 }).toBe('frozen')
    expect(((await ask(300n).catch((e: unknown) => e)) as { code?: string }).code).toBe('agent_frozen')
    await agent.getByTestId('freeze').click()
    await expect.poll(() => agent.getByTestId('agent-status').textContent(), { timeout: 15_000 }).toBe('active')
    expect((await ask(300n)).signature).toMatch(/^0x/)
    // A single-use permit locked to the merchant, and budget credited back: both signed in the wallet.
    await agent.locator('details.more > summary').click()
    const permit = agent.getByTestId('permit-form')
    await permit.locator('input[name=amount]').fill('0.002')
    await permit.locator('input[name=payTo]').fill(MERCHANT)
    await permit.getByRole('button').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toMatch(/^Permit pmt_[0-9a-f]{16}: done/)
    const permits = (await s.client.wallet(s.wallet)).permits
    expect(permits).toEqual([expect.objectContaining({ agentId: s.agentKey.agentId, amount: '2000', payTo: MERCHANT.toLowerCase() })])
    const credit = agent.getByTestId('credit-form')
    await credit.locator('input[name=amount]').fill('0.001')
    await credit.getByRole('button').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('Credit budget: done')
    expect(b.signed.find((x) => x.primaryType === 'CreditBudget')?.message).toMatchObject({ agentId: s.agentKey.agentId, amount: '1000', chainId: String(CHAIN_ID) })
    // The credit shows in the budget (and the chart) as the enclave counts it: 0.001 USDC given back.
    await expect.poll(() => agent.getByTestId('credited-rolling').textContent(), { timeout: 15_000 }).toBe('−0.001')
    await agent.getByTestId('revoke').click()
    await agent.getByTestId('revoke-confirm').click()
    await expect.poll(() => notice().textContent(), { timeout: 15_000 }).toContain('Revoke: done')
    await expect.poll(() => agent.getByTestId('agent-status').textContent(), { timeout: 15_000 }).toBe('revoked')
    const err = await ask(300n).catch((e: unknown) => e)
    expect((err as { code?: string }).code).toBe('agent_revoked')
    expect((await s.client.wallet(s.wallet)).agents[0]!.status).toBe('revoked')
  })

  it('runs from a local copy: dist/console served from another origin, reading and verifying against the host', async () => {
    const dir = path.join(repoRoot, 'dist', 'console')
    const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' }
    const server = createServer((req, res) => {
      const name = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').split('?')[0]!.replace(/^\/+/, '')
      if (!/^(index\.html|assets\/[A-Za-z0-9_.-]+)$/.test(name)) return res.writeHead(404).end()
      try {
        res.writeHead(200, { 'content-type': types[path.extname(name)] ?? 'application/octet-stream' }).end(readFileSync(path.join(dir, name)))
      } catch {
        res.writeHead(404).end()
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const local = `http://localhost:${(server.address() as AddressInfo).port}`
      const { page } = b
      await page.goto(`${local}/?host=${encodeURIComponent(s.stack.url)}`)
      await page.getByTestId('connect').click()
      await page.locator(`[data-testid=wallet][data-wallet="${s.wallet}"]`).waitFor({ timeout: 15_000 })
      expect(await page.locator('nav .host').textContent()).toBe(`host ${s.stack.url}`)
      await page.getByTestId('tab-audit').click()
      await page.getByTestId('verify-audit').click()
      // The tampered entry is still there: the local copy finds it too.
      await expect.poll(() => page.getByTestId('audit-verdict').textContent(), { timeout: 15_000 }).toContain('CHAIN BROKEN')
    } finally {
      server.close()
    }
  })
})
