import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Concurrent stranger loops, and the honest acts each run must land. */
const STRANGERS = 12
const HONEST_ACTS = 3

/**
 * Attack (stranger: anyone who can reach the host's `POST /v1/owner/acts`; rt37 on stage B's relay, 9d0031f): the
 * signer makes a view for any act before its signature is checked (governance checks it) and keeps one outstanding
 * view per wallet, a newer one replacing the last. A stranger who sends unsigned acts naming a victim's wallet, without
 * pause, lands one between the honest owner's `ownerAct` and its `ownerActDecision`: the owner's view is replaced, its
 * decision is `governance_stale`, the relay tries again with a fresh view (8 times) and the stranger replaces that one
 * too — the owner's act fails, every time. The honest host relays one act per wallet at a time (its queue), so another
 * act on the wallet cannot come between a view and its decision through it.
 */
describe('adversarial: a stranger starves an owner act by unsigned acts naming the wallet (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const post = (body: unknown) => postOwnerAct(stack.url, body)

  it(`the owner's ${HONEST_ACTS} acts land while ${STRANGERS} stranger loops send unsigned acts naming the wallet`, async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const auditChain = await auditChainOf(stack.url)
    const created = await post(await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'victim', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }))
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    const wallet = created.json.wallet as `0x${string}`

    let stop = false
    let strangerActs = 0
    const junk = { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` }
    const stranger = async () => {
      while (!stop) {
        const r = await post(junk)
        expect(r.status).not.toBe(200) // refused by governance: the stranger cannot sign for the wallet
        strangerActs++
      }
    }
    const loops = Array.from({ length: STRANGERS }, stranger)
    try {
      // Let the flood start before the owner acts.
      while (strangerActs < STRANGERS) await new Promise((r) => setTimeout(r, 5))
      const answers: Array<{ status: number; code: unknown }> = []
      for (let seq = 1; seq <= HONEST_ACTS; seq++) {
        const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
        const body = await signOwnerAct({ account: owner, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: `a${seq}`, seq: String(seq) } })
        const r = await post(body)
        answers.push({ status: r.status, code: r.json.code })
      }
      expect(answers, `stranger acts during the run: ${strangerActs}`).toEqual(Array.from({ length: HONEST_ACTS }, () => ({ status: 200, code: undefined })))
    } finally {
      stop = true
      await Promise.all(loops)
    }
    expect(strangerActs).toBeGreaterThan(STRANGERS)
  })
})
