import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Stranger acts sent at once, each naming a made-up wallet (junk signatures: governance refuses each). */
const FLOOD = Number(process.env.LANES39_FLOOD ?? 800)

/**
 * Attack (stranger, left by rt38 and scope38): the host prefers an owner's act over strangers' (others run ≤ 32 at once,
 * in one FIFO) only if it knows the signer owns the wallet, and it learnt that only from acts applied since it started.
 * Right after a host restart, an owner's act (and any CreateWallet) waited in the strangers' FIFO: a stranger who floods
 * the relay with acts naming made-up wallets then delays the owner by the whole flood. lanes39: the host reads the
 * enclave's owners (getWallets) at the start of each enclave connection, before it places any act, and a CreateWallet
 * signed by the owner it names, when that key owns a wallet here, is preferred too. Measured in stranger answers that
 * came back between sending the owner's act and its answer (not wall time): without the reseed, most of the flood.
 */
describe('adversarial: a stranger floods the relay right after a host restart (real host, signer, governance)', () => {
  let stack: Stack
  const owner = privateKeyToAccount(generatePrivateKey())
  let wallet: `0x${string}`
  let auditChain: `0x${string}`
  const post = (body: unknown) => postOwnerAct(stack.url, body)
  const createBody = () => signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'victim', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } })

  beforeAll(async () => {
    stack = await startStack()
    auditChain = (await auditChainOf(stack.url)) as `0x${string}`
    const created = await post(await createBody())
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    wallet = created.json.wallet as `0x${string}`
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it(`the owner's act on its wallet and its CreateWallet of a second one land ahead of most of ${FLOOD} stranger acts sent before them`, async () => {
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const act = await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: 'a1', seq: '1' } })
    const second = await createBody()
    await stack.stopHost() // the enclave keeps its state; the new host has relayed no act yet
    await stack.startHost()
    await stack.waitReady()

    let done = 0
    const flood = Array.from({ length: FLOOD }, async () => {
      const junk = { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${randomBytes(20).toString('hex')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` }
      const r = await post(junk)
      done++
      return r.status
    })
    // The flood is in the relay (one answered), then the owner's two acts: what came back after each was sent and
    // before its answer is what it waited for.
    for (const end = Date.now() + 120_000; done < 1 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2))
    const before = done
    const landed = (body: unknown) => post(body).then((r) => ({ ...r, ahead: done - before }))
    const [mine, created] = await Promise.all([landed(act), landed(second)])
    const statuses = await Promise.all(flood)
    console.log(`after a host restart: the owner's acts sent after ${before} of ${FLOOD} stranger answers; its RegisterAgent landed after ${mine.ahead} more, its CreateWallet after ${created.ahead}`)
    expect(statuses.every((s) => s !== 200)).toBe(true) // governance refused every stranger act
    expect(mine.status, JSON.stringify(mine.json)).toBe(200)
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    expect(created.json.wallet).not.toBe(wallet)
    // Before: behind every stranger act the host had read (all the rest of the flood: measured 327 of 327 and 336 of
    // 336 at FLOOD 400). Now: those in flight (≤ 32 in the others' bound, at each of the signer, governance and the
    // signer again) and answers already on their way back to this process.
    expect(mine.ahead).toBeLessThan(FLOOD / 2)
    expect(created.ahead).toBeLessThan(FLOOD / 2)
  })
})
