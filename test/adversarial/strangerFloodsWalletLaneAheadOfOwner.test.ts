import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { LANE_WAITING } from '../../host/enclave/relayOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Stranger acts sent at once, naming the owner's wallet (half signed by the stranger's own key, half with junk signatures). */
const FLOOD = 48

/**
 * Attack (stranger: anyone who can reach `POST /v1/owner/acts`; left by rt37): the host relays one act per wallet at a
 * time, and its lane was FIFO and unbounded. A stranger who sends a burst of acts naming a victim's wallet (each is
 * refused by governance, but only after its turn on the wallet) queues them all ahead of the owner's next act, which
 * then waits for the whole burst. scope38: a lane holds at most LANE_WAITING acts waiting per queue (more are
 * owner_act_queue_full, 429 with Retry-After), and an act signed by one of the wallet's owners waits in a queue of its
 * own, served first. Asserted on order, not time: sent once the lane has refused a stranger act (its queue full), the
 * owner's act is answered after at most the stranger act running when it arrived (and one handed the lane while the
 * host checked the owner's signature), and before strangers' acts that waited ahead of it.
 */
describe('adversarial: a stranger floods a wallet\'s relay lane ahead of its owner (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const post = async (body: unknown) => {
    const r = await fetch(`${stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, retryAfter: r.headers.get('retry-after'), json: (await r.json()) as Record<string, unknown> }
  }

  it(`the owner's act is answered before the ${FLOOD} stranger acts queued ahead of it; the lane refuses those past its bound`, async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const stranger = privateKeyToAccount(generatePrivateKey())
    const created = await post(await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'victim', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await auditChainOf(stack.url) } }))
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    const wallet = created.json.wallet as `0x${string}`

    const freeze = { wallet, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }
    const signed = await signOwnerAct({ account: stranger, primaryType: 'FreezeAgent', message: freeze })
    const bodies = Array.from({ length: FLOOD }, (_, i) => (i % 2 ? signed : { ...signed, signature: `0x${'11'.repeat(65)}` }))
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const ownerAct = await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: 'a', seq: '1' } })

    const log: string[] = []
    const flood = bodies.map((b) => post(b).then((r) => (log.push(r.status === 429 ? 'full' : 'relayed'), r)))
    // The burst is queued: the lane refused one (its strangers' queue held LANE_WAITING acts at that moment).
    while (!log.includes('full') && log.length < FLOOD) await new Promise((r) => setTimeout(r, 2))
    log.push('owner sent')
    const answer = await post(ownerAct)
    log.push('owner answered')
    const strangers = await Promise.all(flood)

    expect(answer.status, JSON.stringify(answer.json)).toBe(200)
    const count = (from: string, to?: string) => log.slice(log.indexOf(from), to ? log.indexOf(to) : undefined).filter((e) => e === 'relayed').length
    // The act running when the owner's arrived, one handed the lane while the host checked its signature, and answers
    // already relayed whose HTTP reply reached this process late on a loaded machine (failed once at ≤ 2): far below
    // the LANE_WAITING (16) a FIFO lane would answer first.
    expect(count('owner sent', 'owner answered'), log.join(' ')).toBeLessThanOrEqual(6)
    // And it overtook strangers' acts waiting before it (a FIFO lane answers none of them after it).
    expect(count('owner answered'), log.join(' ')).toBeGreaterThanOrEqual(1)
    // Every stranger act relayed was refused by governance; the ones past the lane's bound were refused by the host.
    expect(strangers.filter((r) => r.status !== 429).every((r) => r.status !== 200)).toBe(true)
    const full = strangers.filter((r) => r.status === 429)
    expect(full.length).toBeGreaterThanOrEqual(1)
    expect(full.length).toBeLessThanOrEqual(FLOOD - 1 - LANE_WAITING)
    for (const r of full) expect([r.json.code, r.json.retryAfterMs, r.retryAfter]).toEqual(['owner_act_queue_full', 1_000, '1'])
  })
})
