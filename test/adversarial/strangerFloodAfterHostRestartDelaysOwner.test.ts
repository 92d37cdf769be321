import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Stranger acts sent at once, each naming a made-up wallet (junk signatures: governance refuses each). */
const FLOOD = Number(process.env.LANES39_FLOOD ?? 600)

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

  /** Restarts the host (the enclave keeps its state), floods, then sends `act`: how many stranger answers came back before its. */
  async function floodThenSend(act: unknown): Promise<{ status: number; json: Record<string, unknown>; ahead: number; before: number }> {
    await stack.stopHost()
    await stack.startHost()
    await stack.waitReady()
    let done = 0
    const flood = Array.from({ length: FLOOD }, async () => {
      const junk = { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${randomBytes(20).toString('hex')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` }
      const r = await post(junk)
      expect(r.status).not.toBe(200)
      done++
    })
    // The flood is in the relay (one answered), then the owner's act: what came back after it is what it waited for.
    for (const end = Date.now() + 120_000; done < 1 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2))
    const before = done
    const r = await post(act)
    const ahead = done - before
    await Promise.all(flood)
    return { ...r, ahead, before }
  }

  it(`the owner's act on its wallet lands ahead of most of ${FLOOD} stranger acts sent before it`, async () => {
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const act = await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: 'a1', seq: '1' } })
    const r = await floodThenSend(act)
    console.log(`after a host restart: the owner's act sent after ${r.before} of ${FLOOD} stranger answers, landed after ${r.ahead} more`)
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    // Before: behind every stranger act the host had read (~all of the flood). Now: those in flight (≤ 32 in the
    // others' bound) and those the host answered while the owner's request was read, recovered and relayed.
    expect(r.ahead).toBeLessThan(FLOOD / 2)
  })

  it(`the owner's CreateWallet of a second wallet (its key owns one here) lands ahead of most of ${FLOOD} stranger acts`, async () => {
    const r = await floodThenSend(await createBody())
    console.log(`after a host restart: the owner's CreateWallet sent after ${r.before} of ${FLOOD} stranger answers, landed after ${r.ahead} more`)
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    expect(r.json.wallet).not.toBe(wallet)
    expect(r.ahead).toBeLessThan(FLOOD / 2)
  })
})
