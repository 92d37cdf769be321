import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (malicious host, phishing link): the console takes its API host from `?host=`, so a link to the genuine
 * console page (`https://bursar.example/?host=https://evil.example`) makes it sign an owner read token
 * (EIP-712 `AuditRead { owner, expiresAt }`, valid 1 h) and hand it to the attacker's host. The token names no
 * host, so the attacker replays it against the owner's real host and reads the owner's wallets, audit log and
 * webhook URL (a Slack webhook URL is itself a secret). Here "evil" is a second host the token was issued to.
 *
 * Fix: AuditRead names the host origin it is for (`AuditRead { owner, host, expiresAt }`), every signer (CLI,
 * OwnerClient, console) fills in the URL it talks to, and each host accepts only its own origins (BURSAR_PUBLIC_URL
 * or the bound loopback address, plus BURSAR_READ_ORIGINS). The check is on the host, which is sound: the token
 * only gates what an honest host serves; a dishonest host needs no token to serve its own data.
 */
describe('owner read token signed for one host is replayed on another', () => {
  let real: Stack
  let evil: Stack
  beforeAll(async () => {
    ;[real, evil] = await Promise.all([startStack({}), startStack({})])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([real?.stop(), evil?.stop()])
  })

  it("a token handed to another host does not read this host's webhook URL or wallets", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(real.url, owner).createWallet('secret hook')
    const url = 'https://hooks.example.com/services/T000/B000/SECRETSECRET'
    const put = await fetch(`${real.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() })) })
    expect(put.status).toBe(200)
    // The owner signs a read token for the evil host (what the console does on connect)...
    const token = await signAuditReadToken({ account: owner, host: evil.url, expiresAt: Date.now() + 3_600_000 })
    const authorization = `${AUDIT_READ_SCHEME} ${token}`
    expect((await fetch(`${evil.url}/v1/owner/wallets`, { headers: { authorization } })).status).toBe(200)
    // ...which replays it on the real host: refused on every owner read.
    for (const path of [`/v1/owner/webhooks/${wallet}`, '/v1/owner/wallets', '/v1/wallets', `/v1/wallets/${wallet}`, `/v1/audit/entries?wallet=${wallet}`]) {
      const read = await fetch(`${real.url}${path}`, { headers: { authorization } })
      const text = await read.text()
      expect(read.status, path).toBe(401)
      expect(JSON.parse(text).code, path).toBe('audit_token_wrong_host')
      expect(text).not.toContain('SECRETSECRET')
      expect(text.toLowerCase()).not.toContain(wallet.toLowerCase())
    }
    // Re-addressed to the real host, the signature no longer recovers to the owner.
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { host: string }
    const readdressed = Buffer.from(JSON.stringify({ ...t, host: new URL(real.url).origin })).toString('base64url')
    const forged = await fetch(`${real.url}/v1/owner/webhooks/${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${readdressed}` } })
    expect(forged.status).toBe(401)
    expect(await forged.text()).not.toContain('SECRETSECRET')
    // Control: a token the owner signs for the real host reads it there.
    const own = await signAuditReadToken({ account: owner, host: real.url, expiresAt: Date.now() + 60_000 })
    const ok = await fetch(`${real.url}/v1/owner/webhooks/${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${own}` } })
    expect(JSON.stringify(await ok.json())).toContain('SECRETSECRET')
  }, 60_000)
})
