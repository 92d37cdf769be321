import { readFileSync } from 'node:fs'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const owner = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')

describe('foundation: real enclave + host processes over a Unix socket', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('answers health and readiness, serves OpenAPI', async () => {
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200)
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as Record<string, unknown>
    expect(ready).toMatchObject({ ready: true, phase: 'ready', mode: 'sim' })
    // gov36: governance's process is reported (the sim enclave starts it beside itself), reachable after its hello.
    expect(ready.governance).toMatchObject({ state: 'reachable', hello: { protocolVersion: expect.any(Number) } })
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/owner/acts', '/v1/agent/sign', '/v1/attestation', '/readyz']))
    expect((await fetch(`${stack.url}/docs`)).status).toBeLessThan(400)
    const page = await fetch(`${stack.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    // The owner console when dist/console is built (make sim, the browser tests), else the read-only page.
    expect(await page.text()).toMatch(/bursar — owner (console|dashboard)/)
    const legacy = await fetch(`${stack.url}/dashboard`)
    expect(legacy.headers.get('content-type')).toMatch(/text\/html; charset=utf-8/)
    expect(await legacy.text()).toContain('bursar — owner dashboard')
  })

  it('creates a wallet from an owner-signed act; state survives a restart of both processes', async () => {
    const client = new OwnerClient(stack.url, owner)
    const created = await client.createWallet('ops')
    expect(created.wallet).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(created.owner.toLowerCase()).toBe(owner.address.toLowerCase())
    // The host stored only sealed state: the snapshot blob is not readable CBOR with the key in it.
    const db = readFileSync(path.join(stack.dataDir, 'bursar.db'))
    expect(db.includes(Buffer.from('privateKey'))).toBe(false)

    await stack.stopHost()
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.startHost()
    await stack.waitReady()
    const wallets = await new OwnerClient(stack.url, owner).wallets()
    expect(wallets.map((w) => w.address)).toContain(created.wallet)
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as { auditHead: { seq: number } }
    expect(ready.auditHead.seq).toBeGreaterThanOrEqual(2) // started, wallet_created, state_loaded
  })

  it('refuses a forged owner act, and a replayed CreateWallet', async () => {
    const client = new OwnerClient(stack.url, owner)
    const message = { owner: owner.address, label: 'x', nonce: `0x${'11'.repeat(32)}`, issuedAt: String(Date.now()), auditChain: await client.auditChain() }
    const { signOwnerAct } = await import('../../shared/owner/signOwnerAct.js')
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message })
    await client.request('POST', '/v1/owner/acts', body)
    await expect(client.request('POST', '/v1/owner/acts', body)).rejects.toMatchObject({ code: 'owner_act_replayed' })
    const forged = { ...body, message: JSON.stringify({ ...message, label: 'changed' }) }
    await expect(client.request('POST', '/v1/owner/acts', forged)).rejects.toMatchObject({ code: 'owner_signature_invalid' })
  })
})
