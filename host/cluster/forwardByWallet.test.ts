import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { walletForwardHook, walletOfRequest } from './forwardByWallet.js'
import type { WalletLeaseKeeper } from './WalletLeaseKeeper.js'

const W = `0x${'ab'.repeat(20)}`
const V = `0x${'cd'.repeat(20)}`
const U = `0x${'ef'.repeat(20)}`

describe('per-wallet forwarding (issue 15 step 4)', () => {
  it('finds the wallet a request names: path, signed agent request, owner act message, webhook setting; none otherwise', () => {
    const sign = Buffer.from(JSON.stringify({ request: JSON.stringify({ wallet: W.toUpperCase().replace('0X', '0x'), op: 1 }), signature: 'x' }))
    expect(walletOfRequest('/v1/agent/sign', sign)).toBe(W)
    expect(walletOfRequest('/v1/owner/acts', Buffer.from(JSON.stringify({ primaryType: 'SetPolicy', message: JSON.stringify({ wallet: V }), signature: '0x' })))).toBe(V)
    expect(walletOfRequest('/v1/owner/acts', Buffer.from(JSON.stringify({ primaryType: 'CreateWallet', message: '{"owner":"0x1"}', signature: '0x' })))).toBeNull()
    expect(walletOfRequest('/v1/owner/webhooks', Buffer.from(JSON.stringify({ wallet: V, url: '' })))).toBe(V)
    expect(walletOfRequest(`/v1/wallets/${W}`, null)).toBe(W)
    expect(walletOfRequest(`/v1/operator/wallets/${W}/drop`, null)).toBeNull() // the operator acts on this pair
    expect(walletOfRequest('/v1/agent/sign', Buffer.from('not json'))).toBeNull()
    expect(walletOfRequest('/v1/audit/export', Buffer.from(JSON.stringify({ wallet: W })))).toBeNull()
  })

  const apps: Array<ReturnType<typeof Fastify>> = []
  afterAll(async () => {
    for (const a of apps) await a.close()
  })

  it('serves a held wallet here, forwards one held elsewhere byte for byte, refuses 503 when nobody holds it, answers an unknown one here', async () => {
    const holder = Fastify()
    holder.post('/v1/agent/sign', async (req) => ({ at: 'holder', forwardedBy: req.headers['x-bursar-forwarded'], body: req.body }))
    await holder.listen({ port: 0, host: '127.0.0.1' })
    const holderUrl = `http://127.0.0.1:${(holder.server.address() as { port: number }).port}`
    const keeper = {
      role: 'running',
      leases: new Map([[V, {}], [U, {}]]),
      lookup: async () => null,
      route: (w: string) => (w === W ? { local: true } : w === V ? { local: false, url: holderUrl } : { local: false, url: null }),
    } as unknown as WalletLeaseKeeper
    const here = Fastify()
    here.addHook('preParsing', walletForwardHook(keeper, 'here'))
    here.post('/v1/agent/sign', async (req) => ({ at: 'here', body: req.body }))
    await here.listen({ port: 0, host: '127.0.0.1' })
    apps.push(holder, here)
    const hereUrl = `http://127.0.0.1:${(here.server.address() as { port: number }).port}`
    const post = async (wallet: string) => {
      const body = { request: JSON.stringify({ wallet, n: 1 }), signature: 'ü' }
      const r = await fetch(`${hereUrl}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      return { status: r.status, json: (await r.json()) as Record<string, unknown>, body }
    }
    const a = await post(W)
    expect(a).toMatchObject({ status: 200, json: { at: 'here', body: a.body } })
    const b = await post(V)
    expect(b).toMatchObject({ status: 200, json: { at: 'holder', forwardedBy: 'here', body: b.body } })
    expect(await post(U)).toMatchObject({ status: 503, json: { code: 'lease_not_held' } })
    const unknown = `0x${'01'.repeat(20)}`
    expect(await post(unknown)).toMatchObject({ status: 200, json: { at: 'here' } })
  })
})
