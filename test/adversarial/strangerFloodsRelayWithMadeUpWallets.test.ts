import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Stranger acts sent at once, each naming a wallet of its own that does not exist. */
const FLOOD = Number(process.env.RT38_FLOOD ?? 800)

/**
 * Attack (stranger, rt38 on rt37's relay lanes: one act per wallet at a time, at most 256 in flight): lanes are per
 * wallet, so acts naming FLOOD made-up wallets are FLOOD lanes; 256 run and the rest wait in one FIFO. An owner's act
 * on its real wallet, sent after the flood, waited behind every stranger act queued before it (landed after all 799 of
 * 800; after 1,499 of 1,500). Now acts on wallets an act applied to through this host wait apart from the others, which
 * run at most 32 at once: the owner's act lands after a few dozen to ~130 (those already in flight, and the flood's
 * requests the host read before the owner's). Asserted on counts, not times.
 */
describe('adversarial: a stranger floods the relay with acts for made-up wallets (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })
  const post = (body: unknown) => postOwnerAct(stack.url, body)

  it(`the owner's act lands ahead of most of ${FLOOD} stranger acts sent before it`, async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await auditChainOf(stack.url)
    const created = await post(await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'victim', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }))
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    const wallet = created.json.wallet as `0x${string}`
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const honest = await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: 'a1', seq: '1' } })

    let done = 0
    const codes = new Map<string, number>()
    const t0 = Date.now()
    const flood = Array.from({ length: FLOOD }, async () => {
      const junk = { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${randomBytes(20).toString('hex')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` }
      const r = await post(junk)
      codes.set(String(r.json.code), (codes.get(String(r.json.code)) ?? 0) + 1)
      done++
    })
    while (done < 1) await new Promise((r) => setTimeout(r, 2)) // the flood is in the relay
    const before = done
    const r = await post(honest)
    const ahead = done - before
    const t1 = Date.now()
    await Promise.all(flood)
    console.log(`flood ${FLOOD}: owner's act sent after ${before}, landed after ${ahead} more stranger acts, ${t1 - t0} ms; all ${Date.now() - t0} ms; codes ${JSON.stringify([...codes])}`)
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    expect(ahead).toBeLessThan(FLOOD / 2)
  })
})
