import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { isInternalAddress, internalTargetReason } from '../../host/webhooks/webhookTarget.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack: any wallet owner (a stranger to the operator: creating a wallet needs no permission) points its
 * pending-approval webhook at the host's own network — loopback admin ports, 10/8 services, the cloud metadata
 * endpoint — and makes the host POST there whenever its agent asks for approval (blind SSRF). https:// alone
 * does not stop it. The host must refuse internal targets (literal or in disguise) when the setting is PUT.
 */
describe('webhook SSRF: an owner points the host at its own network', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({})
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const internal = [
    'https://127.0.0.1/admin',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]:8443/',
    'https://localhost/',
    'https://10.0.0.5/hook',
    'https://192.168.1.1/',
    'https://2130706433/', // 127.0.0.1 as a decimal integer
    'https://0x7f.1/', // 127.0.0.1, hex and short form
    'https://[::ffff:127.0.0.1]/',
    'https://0.0.0.0/',
  ]

  it('refuses internal webhook targets an owner signs', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('ssrf')
    let issuedAt = Date.now()
    for (const url of internal) {
      const s = await signWebhookSetting({ account: owner, wallet, url, issuedAt: ++issuedAt })
      const res = await fetch(`${stack.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s) })
      expect({ url, status: res.status }).toEqual({ url, status: 400 })
    }
    // A public https target is still accepted.
    const ok = await signWebhookSetting({ account: owner, wallet, url: 'https://hooks.example.com/T0/B0/x', issuedAt: ++issuedAt })
    const res = await fetch(`${stack.url}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ok) })
    expect(res.status).toBe(200)
  })

  it('classifies addresses (the delivery-time check after DNS uses the same test)', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1'])
      expect({ ip, internal: isInternalAddress(ip) }).toEqual({ ip, internal: true })
    for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111']) expect({ ip, internal: isInternalAddress(ip) }).toEqual({ ip, internal: false })
    expect(internalTargetReason('https://hooks.slack.com/services/x')).toBeNull()
  })
})
