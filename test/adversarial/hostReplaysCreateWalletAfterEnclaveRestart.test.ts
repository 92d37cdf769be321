import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (host, or an SDK resending after a timeout; rt37 on gov36's auditChain): a CreateWallet names one audit chain
 * (core id ‖ chain id) and its nonce lives in that chain's sealed state. A restarted enclave resumes the same chain (same
 * id: the act still names it), so the chain binding does not stop a replay there — the nonce restored from the sealed
 * core must. The host replays the owner's signed create after the enclave restarts: owner_act_replayed, one wallet.
 * (Another enclave or a new chain of the lineage: hostReplaysNewWalletActOnOtherChain; a held decision across the
 * restart: hostReplaysGovernanceDecision.)
 */
describe('adversarial: the host replays a CreateWallet after the enclave restarts on its chain (real host, signer, governance)', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  })
  afterAll(async () => {
    await stack?.stop()
  })
  const post = (body: unknown) => postOwnerAct(stack.url, body)
  const walletsOf = async (owner: string) => {
    const r = await fetch(`${stack.url}/v1/wallets`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    return ((await r.json()) as { wallets: Array<{ owner: string; address: string }> }).wallets.filter((w) => w.owner.toLowerCase() === owner.toLowerCase()).map((w) => w.address)
  }

  it('the same signed create after a restart is owner_act_replayed; the owner has one wallet', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const chain = await auditChainOf(stack.url)
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: 'once', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: chain } })
    const first = await post(body)
    expect(first.status, JSON.stringify(first.json)).toBe(200)
    expect((await post(body)).json.code).toBe('owner_act_replayed')

    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.waitReady(30_000)
    expect(await auditChainOf(stack.url)).toBe(chain) // the act still names this enclave's chain
    const again = await post(body)
    expect([again.status, again.json.code]).toEqual([409, 'owner_act_replayed'])
    expect(await walletsOf(owner.address)).toEqual([first.json.wallet])
  })
})
