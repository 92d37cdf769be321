import { writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

/**
 * Attack: a malicious host answers `GET /v1/attestation` with its own X25519 "import key" (keeping the enclave's
 * receipt key and signature), so that an owner importing a wallet seals the key to the host. Through a real host and
 * enclave behind a rewriting proxy, the spawned CLI checks the import key's signature under the (pinned) receipt key
 * and refuses before sealing anything; nothing reaches the enclave. The honest host's key imports fine.
 */
describe('adversarial: the host swaps the enclave import key', () => {
  let q: QuorumWallet
  let proxy: Server
  let proxyUrl: string
  const attacker = x25519PublicKey(crypto.getRandomValues(new Uint8Array(32)))
  let posts = 0

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'swapkey', owners: 1, quorum: null })
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      if (req.method === 'POST') posts++
      const up = await fetch(`${q.stack.url}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined })
      let body = await up.text()
      if (req.url?.startsWith('/v1/attestation')) body = JSON.stringify({ ...JSON.parse(body), importKey: `0x${Buffer.from(attacker).toString('hex')}` })
      res.writeHead(up.status, { 'content-type': 'application/json' }).end(body)
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  }, 60_000)
  afterAll(async () => {
    proxy?.close()
    await q?.stack.stop()
  })

  it('the CLI refuses to seal a key to an import key the enclave’s receipt key did not sign', async () => {
    const keyFile = path.join(q.dir, 'import.key')
    writeFileSync(keyFile, generatePrivateKey())
    // Pin the honest receipt key first (as an owner who used this host before would have).
    expect((await q.cli(0, ['wallet', 'list', '--json'])).code).toBe(0)
    const owner = q.keys[0]!
    const viaProxy = await q.cli(owner, ['wallet', 'import', '--private-key-file', keyFile, '--host', proxyUrl, '--json'])
    expect(viaProxy.code).toBe(1)
    expect(JSON.parse(viaProxy.stdout).error.code).toBe('owner_receipt_key_unverified')
    expect(posts).toBe(0)
    const direct = await q.cli(owner, ['wallet', 'import', '--private-key-file', keyFile, '--json'])
    expect(direct.code, direct.stdout + direct.stderr).toBe(0)
  }, 60_000)
})
