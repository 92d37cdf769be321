import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (token replay through a shared audience): read tokens name a host origin, but a host on a loopback or
 * wildcard bind also accepts `http://localhost:<port>`, `http://127.0.0.1:<port>` and `http://[::1]:<port>` as its
 * own, even when BURSAR_PUBLIC_URL says it is `https://bursar.example` (the usual deployment: bound to 127.0.0.1
 * behind a TLS proxy on the same machine, so every request arrives from loopback). Those names are not this host's:
 * they are every host on the default port 8402 of every machine. A token an owner signs for *some* localhost host
 * (another operator's test host, a local tool, a tunnel, a `?host=http://localhost:8402` link) is then accepted by
 * the public host, through its proxy, from anywhere: the host binding is void for localhost tokens.
 *
 * Fix: with a public URL that is not itself loopback, the loopback names are not this host's origins (the operator
 * lists them in BURSAR_READ_ORIGINS when local tools need them).
 */
describe('a read token signed for localhost is replayed to a host that has a public URL', () => {
  let host: Stack
  beforeAll(async () => {
    host = await startStack({ env: { BURSAR_PUBLIC_URL: 'https://bursar.example' } })
  }, 60_000)
  afterAll(async () => {
    await host?.stop()
  })

  it("is refused on every owner read, and leaks no wallet or webhook URL", async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(host.url, owner).createWallet('public host')
    const url = 'https://hooks.example.com/services/T000/B000/SECRETSECRET'
    const put = await fetch(`${host.url}/v1/owner/webhooks`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await signWebhookSetting({ account: owner, wallet, url, issuedAt: Date.now() })),
    })
    expect(put.status).toBe(200)
    const port = new URL(host.url).port
    for (const audience of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]) {
      // What the owner gave some other localhost host on that port (not this one, whose origin is bursar.example).
      const token = await signAuditReadToken({ account: owner, host: audience, expiresAt: Date.now() + 3_600_000 })
      const authorization = `${AUDIT_READ_SCHEME} ${token}`
      for (const path of [`/v1/owner/webhooks/${wallet}`, '/v1/owner/wallets', '/v1/wallets', `/v1/wallets/${wallet}`, `/v1/audit/entries?wallet=${wallet}`]) {
        const read = await fetch(`${host.url}${path}`, { headers: { authorization } })
        const text = await read.text()
        expect(read.status, `${audience} ${path}`).toBe(401)
        expect(JSON.parse(text).code, path).toBe('audit_token_wrong_host')
        expect(text).not.toContain('SECRETSECRET')
        expect(text.toLowerCase()).not.toContain(wallet.toLowerCase())
      }
    }
    // Control: a token for the host's public origin reads it (here through loopback, as its proxy would).
    const own = await signAuditReadToken({ account: owner, host: 'https://bursar.example', expiresAt: Date.now() + 60_000 })
    const ok = await fetch(`${host.url}/v1/owner/webhooks/${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${own}` } })
    expect(ok.status).toBe(200)
    expect(JSON.stringify(await ok.json())).toContain('SECRETSECRET')
  }, 60_000)
})
