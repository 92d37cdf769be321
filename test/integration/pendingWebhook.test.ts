import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApprovalPendingError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { PendingWebhookBody } from '../../host/webhooks/PendingWebhooks.js'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { CHAIN_ID, TOKEN, eip3009, paymentPolicy, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * A pending approval pages the owner: the host POSTs the wallet's webhook once per pending request (asking again
 * does not page again), Slack-compatible, with a link into the console, and retries with backoff while the
 * receiver fails. The body carries nothing secret.
 */
describe('pending-approval webhook (real host + enclave, local receiver)', () => {
  let stack: Stack
  let receiver: Server
  const hits: { at: number; body: PendingWebhookBody; status: number; path: string }[] = []
  let hookBase = ''
  let failFirst = 2

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let text = ''
      req.on('data', (d: Buffer) => (text += d.toString()))
      req.on('end', () => {
        const status = failFirst-- > 0 ? 503 : 200
        hits.push({ at: Date.now(), body: JSON.parse(text) as PendingWebhookBody, status, path: req.url ?? '' })
        res.writeHead(status).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
    const url = `${hookBase}/hook`
    // The public URL is not loopback, so this test's loopback URL is one of its read origins only when listed.
    const free = createServer()
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r))
    const port = (free.address() as AddressInfo).port
    await new Promise((r) => free.close(r))
    stack = await startStack({
      port,
      env: {
        BURSAR_WEBHOOKS: JSON.stringify({ '*': url }),
        BURSAR_WEBHOOK_BACKOFF_MS: '200',
        BURSAR_PUBLIC_URL: 'https://console.example',
        BURSAR_READ_ORIGINS: `http://127.0.0.1:${port}`,
        BURSAR_WEBHOOK_ALLOW_HTTP: '1',
      },
    })
  })
  afterAll(async () => {
    await stack?.stop()
    receiver?.close()
  })

  it('fires once per pending request with the documented body, retrying while the receiver fails', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('hooked')
    const policy = paymentPolicy({ perTx: '100000', rolling24h: '1000000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy })
    await waitAgentFloor()
    const ask = () => requestSignature({ host: stack.url, agentKey, wallet, operation: eip3009({ wallet, value: 5_000n }) })
    const err = await ask().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApprovalPendingError)
    const id = (err as ApprovalPendingError).pendingId!
    // Asking again returns the same pending request: no second page.
    expect(((await ask().catch((e: unknown) => e)) as ApprovalPendingError).pendingId).toBe(id)

    // 503, 503, then 200: three deliveries of the same body, spaced by the backoff (200 ms, then 400 ms).
    await expect.poll(() => hits.length, { timeout: 10_000 }).toBe(3)
    await new Promise((r) => setTimeout(r, 1_000))
    expect(hits.map((h) => h.status)).toEqual([503, 503, 200])
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(190)
    expect(hits[2]!.at - hits[1]!.at).toBeGreaterThanOrEqual(390)
    const body = hits[2]!.body
    expect(hits[0]!.body).toEqual(body)
    expect(body).toMatchObject({
      event: 'approval_pending',
      wallet,
      agentId: agentKey.agentId,
      pendingId: id,
      approveUrl: `https://console.example/#/approve/${wallet}/${id}`,
      resourceHost: null,
    })
    expect(body.describe).toContain('5000')
    expect(body.text).toContain(`<https://console.example/#/approve/${wallet}/${id}|Review and approve or reject>`)
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now())
    // Nothing secret: exactly these fields, no token, key or signature.
    expect(Object.keys(body).sort()).toEqual(['agentId', 'approveUrl', 'describe', 'event', 'expiresAt', 'pendingId', 'resourceHost', 'text', 'wallet'])
    expect(JSON.stringify(body)).not.toMatch(/signature|token|privateKey|bat_/i)
  })

  it("the wallet's owner sets its own webhook with a signed SetWebhook; others, stale and replayed settings are refused", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const stranger = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('own hook')
    const put = async (body: unknown) => {
      const r = await fetch(`${stack.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      return { status: r.status, json: (await r.json()) as Record<string, unknown> }
    }
    const url = `${hookBase}/owner-hook`
    expect(await put(await signWebhookSetting({ account: stranger, wallet, url, issuedAt: Date.now() }))).toMatchObject({ status: 400, json: { code: 'webhook_setting_invalid' } })
    expect(await put(await signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() - 3_600_000 }))).toMatchObject({ status: 400 })
    expect(await put({ ...(await signWebhookSetting({ account: owner, wallet, url: 'ftp://x.example/', issuedAt: Date.now() })) })).toMatchObject({ status: 400 })
    const first = await signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() })
    expect(await put(first)).toMatchObject({ status: 200, json: { url } })
    // Replaying the same (or an older) signed setting cannot undo a later change.
    expect(await put(first)).toMatchObject({ status: 409, json: { code: 'webhook_setting_stale' } })
    // Reading it back needs the owner's read token (a Slack webhook URL is itself a secret).
    expect((await fetch(`${stack.url}/v1/owner/webhooks/${wallet}`)).status).toBe(401)
    const token = await signAuditReadToken({ account: owner, host: stack.url, expiresAt: Date.now() + 60_000 })
    const got = await fetch(`${stack.url}/v1/owner/webhooks/${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${token}` } })
    expect(await got.json()).toMatchObject({ wallet, url })

    const policy = paymentPolicy({ perTx: '100000', rolling24h: '1000000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy })
    await waitAgentFloor()
    const err = await requestSignature({ host: stack.url, agentKey, wallet, operation: eip3009({ wallet, value: 7_000n }) }).catch((e: unknown) => e)
    const id = (err as ApprovalPendingError).pendingId!
    // The owner's URL wins over the operator's '*'.
    await expect.poll(() => hits.filter((h) => h.body.pendingId === id).map((h) => h.path), { timeout: 10_000 }).toEqual(['/owner-hook'])
  })
})
