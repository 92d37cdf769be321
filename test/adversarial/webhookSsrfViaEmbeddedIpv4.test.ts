import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { isInternalAddress, resolveTarget } from '../../host/webhooks/webhookTarget.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (webhook SSRF through IPv6 forms that carry an IPv4 address): the internal-address check decodes
 * `::ffff:a.b.c.d` but not the other IPv6 spellings of an IPv4 destination. On a host in an IPv6 subnet with a
 * NAT64 route (AWS, GCP, most IPv6-only clusters), `64:ff9b::a9fe:a9fe` is 169.254.169.254 (cloud metadata) and
 * `64:ff9b::a00:5` is 10.0.0.5 through the NAT64 gateway; a DNS64 resolver hands out such an address for any name
 * with an internal A record; 6to4 (`2002:AABB:CCDD::/48`) and IPv4-compatible (`::a.b.c.d`) spellings likewise.
 * Any wallet owner sets the URL (no operator permission), so the host POSTs into its own network.
 *
 * Fix: IPv6 addresses that embed an IPv4 one (NAT64 64:ff9b::/96 and its local-use 64:ff9b:1::/48, 6to4
 * 2002::/16, IPv4-compatible ::/96) are judged by the IPv4 address they carry (the local-use NAT64 prefix and
 * IPv4-compatible forms are refused outright).
 */
describe('webhook SSRF via IPv6 addresses that embed an internal IPv4 address', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({})
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  const embedded = [
    'https://[64:ff9b::a9fe:a9fe]/latest/meta-data/', // NAT64 → 169.254.169.254
    'https://[64:ff9b::10.0.0.5]/hook', // NAT64, dotted form → 10.0.0.5
    'https://[64:ff9b::7f00:1]/', // NAT64 → 127.0.0.1
    'https://[64:ff9b:1::a00:5]/', // NAT64 local-use prefix
    'https://[2002:a9fe:a9fe::1]/', // 6to4 → 169.254.169.254
    'https://[2002:c0a8:101::]/', // 6to4 → 192.168.1.1
    'https://[::127.0.0.1]/', // IPv4-compatible
    'https://[::a00:5]/', // IPv4-compatible → 10.0.0.5
  ]

  it('refuses them when an owner signs the setting', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('ssrf64')
    let issuedAt = Date.now()
    for (const url of embedded) {
      const s = await signWebhookSetting({ account: owner, wallet, url, issuedAt: ++issuedAt })
      const res = await fetch(`${stack.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) })
      expect({ url, status: res.status }).toEqual({ url, status: 400 })
    }
    // Public IPv4 behind NAT64 / 6to4 and a plain public IPv6 stay allowed.
    for (const url of ['https://[64:ff9b::808:808]/', 'https://[2002:808:808::1]/', 'https://[2606:4700::1111]/']) {
      const s = await signWebhookSetting({ account: owner, wallet, url, issuedAt: ++issuedAt })
      const res = await fetch(`${stack.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) })
      expect({ url, status: res.status }).toEqual({ url, status: 200 })
    }
  }, 60_000)

  it('refuses a name whose DNS64 answer embeds an internal address, at delivery', async () => {
    const r = await resolveTarget('https://hooks.attacker.example/x', {
      resolve: async () => [{ address: '64:ff9b::a9fe:a9fe', family: 6 }],
    })
    expect(r.ok).toBe(false)
    for (const ip of ['64:ff9b::a9fe:a9fe', '64:ff9b::a00:5', '2002:7f00:1::', '::a00:5']) expect({ ip, internal: isInternalAddress(ip) }).toEqual({ ip, internal: true })
    for (const ip of ['64:ff9b::808:808', '2002:808:808::', '2001:4860:4860::8888']) expect({ ip, internal: isInternalAddress(ip) }).toEqual({ ip, internal: false })
  })
})
