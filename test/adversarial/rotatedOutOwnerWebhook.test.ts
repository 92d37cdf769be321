import { mkdtempSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { ApprovalPendingError } from '../../agent/errors.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { CHAIN_ID, TOKEN, eip3009, paymentPolicy, runCli, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack: the owner's key is stolen, so the owner rotates it out (SetOwners). The thief had (or the old owner
 * had) pointed the wallet's pending-approval webhook at a URL of their own with a SetWebhook signed by the old
 * key. The host kept delivering every later pending approval (agent, amount, payee in `describe`) to that URL:
 * the rotated-out key still hears about the wallet. A setting must count only while its signer owns the wallet.
 */
describe('adversarial: a rotated-out owner key keeps the wallet webhook and the owner wallet view', () => {
  let stack: Stack
  let receiver: Server
  const hits: { pendingId: string }[] = []
  let hook = ''

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let text = ''
      req.on('data', (d: Buffer) => (text += d.toString()))
      req.on('end', () => {
        hits.push(JSON.parse(text) as { pendingId: string })
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/thief`
    stack = await startStack({ env: { BURSAR_WEBHOOK_BACKOFF_MS: '100', BURSAR_WEBHOOK_ALLOW_HTTP: '1' } })
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
    receiver?.close()
  })

  it('after SetOwners removes the key that signed the setting, pending approvals are no longer sent there', async () => {
    const oldKey = generatePrivateKey()
    const oldOwner = privateKeyToAccount(oldKey)
    const newOwner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, oldOwner).createWallet('rotate hook')
    const policy = paymentPolicy({ perTx: '100000', rolling24h: '1000000' })
    const rule = policy.rules[0]!
    if (rule.effect !== 'allow') throw new TypeError('expected an allow rule')
    policy.rules[0] = { ...rule, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' }
    const { agentKey } = await setupAgent({ host: stack.url, owner: oldOwner, wallet, policy })
    await waitAgentFloor()
    const put = await fetch(`${stack.url}/v1/owner/webhooks`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signWebhookSetting({ account: oldOwner, wallet, url: hook, issuedAt: Date.now() })),
    })
    expect(put.status).toBe(200)
    const ask = async (value: bigint) =>
      ((await requestSignature({ host: stack.url, agentKey, wallet, operation: eip3009({ wallet, value }) }).catch((e: unknown) => e)) as ApprovalPendingError).pendingId!

    // Control: while the key owns the wallet, its webhook is paged.
    const before = await ask(5_000n)
    await expect.poll(() => hits.some((h) => h.pendingId === before), { timeout: 10_000 }).toBe(true)

    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-rotate-hook-'))
    const rotate = await runCli(['owner', 'wallet', 'owners', 'set', '--wallet', wallet, '--owner', newOwner.address, '--json'], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: oldKey, HOME: dir }, dir)
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0)

    const after = await ask(6_000n)
    expect(after).not.toBe(before)
    await new Promise((r) => setTimeout(r, 1_500))
    expect(hits.filter((h) => h.pendingId === after)).toEqual([])

    // Nor may the rotated-out key point the webhook somewhere again, or list the wallet (pending requests, policies)
    // as its own; the new owner does both.
    const reput = await fetch(`${stack.url}/v1/owner/webhooks`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signWebhookSetting({ account: oldOwner, wallet, url: `${hook}/again`, issuedAt: Date.now() + 1 })),
    })
    expect(reput.status).toBe(400)
    const listed = async (account: typeof oldOwner) => {
      const auth = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account, host: stack.url, expiresAt: Date.now() + 60_000 })}`
      const r = (await (await fetch(`${stack.url}/v1/owner/wallets`, { headers: { authorization: auth } })).json()) as { wallets: { address: string }[] }
      return r.wallets.map((w) => w.address.toLowerCase())
    }
    expect(await listed(oldOwner)).not.toContain(wallet.toLowerCase())
    expect(await listed(newOwner)).toContain(wallet.toLowerCase())
    const own = await fetch(`${stack.url}/v1/owner/webhooks`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signWebhookSetting({ account: newOwner, wallet, url: '', issuedAt: Date.now() + 2 })),
    })
    expect(own.status).toBe(200)
  }, 60_000)
})
