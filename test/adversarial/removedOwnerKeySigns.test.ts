import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { HostRequestError, OwnerClient } from '../../cli/lib/OwnerClient.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import type { Stack } from '../helpers/startStack.js'

/**
 * Attack: an owner key removed from a wallet's owner set (lost laptop, departed co-owner) keeps signing: fresh acts,
 * its partial signature on an act proposed before the removal, and a replay of that signed act. Through the real host
 * and enclave, every one is refused, and the removal itself needed the owners quorum (2 of 3).
 */
describe('adversarial: a removed owner key keeps signing', () => {
  let stack: Stack
  let owners: LocalAccount[]
  let clients: OwnerClient[]
  let wallet: Hex
  let agentKey: AgentKey
  let cli: QuorumWallet['cli']

  beforeAll(async () => {
    ;({ stack, owners, clients, wallet, agentKey, cli } = await startQuorumWallet({ prefix: 'owners', quorum: null }))
    // Through the CLI: three owners, 1 to stop, 2 for everything else.
    const set = await cli(0, ['wallet', 'owners', 'set', '--wallet', wallet, '--owner', ...owners.map((o) => o.address), '--approve', '2', '--loosen', '2', '--agents', '2', '--owners', '2', '--json'])
    expect(set.code, set.stdout + set.stderr).toBe(0)
    const show = await cli(2, ['wallet', 'owners', 'show', '--wallet', wallet])
    expect(show.stdout).toContain('owners 2 of 3')
    expect(show.stdout).toContain('stop 1 of 3')
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it('removing an owner needs 2 of 3; it ends the removed owner’s open partial signature', async () => {
    const k = generateAgentKey({ wallet, host: stack.url })
    const partial = await clients[2]!.act('RegisterAgent', wallet, { agentId: k.agentId, agentPublicKey: `0x${k.publicKey}`, label: 'c' })
    expect(partial.proposal).toMatchObject({ actClass: 'agents', signers: [owners[2]!.address] })
    const remove = await clients[0]!.act('SetOwners', wallet, {
      owners: [owners[0]!.address, owners[1]!.address],
      stopQuorum: '1', approveQuorum: '2', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '2', delaySeconds: '0',
    })
    expect(remove.proposal).toMatchObject({ actClass: 'owners', threshold: 2 })
    // Still three owners: one signature did nothing.
    expect((await clients[1]!.wallet(wallet)).governance.owners).toHaveLength(3)
    const done = await clients[1]!.cosign(wallet, remove.proposal!.actHash)
    expect(done.proposal).toBeUndefined()
    const info = await clients[1]!.wallet(wallet)
    expect(info.governance.owners).toEqual([owners[0]!.address.toLowerCase(), owners[1]!.address.toLowerCase()])
    // C's partial RegisterAgent died with the seq move (and with C's removal): nothing waits any more.
    expect(info.proposals).toEqual([])
    expect(info.agents.map((a) => a.agentId)).not.toContain(k.agentId)
    // A co-signature on it now finds nothing to join.
    const late = await clients[0]!.cosign(wallet, partial.proposal!.actHash).catch((e) => e)
    expect((late as HostRequestError).code).toBe('proposal_not_found')
  }, 30_000)

  it('the removed key’s fresh acts are refused, even a 1-of-n freeze; its old signed act is refused too', async () => {
    const freeze = await clients[2]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true }).catch((e) => e)
    expect(freeze).toBeInstanceOf(HostRequestError)
    expect((freeze as HostRequestError).code).toBe('owner_not_authorized')
    // Replaying a message C signed for the next seq, straight to the host (no client-side checks).
    const info = await clients[0]!.wallet(wallet)
    const body = await signOwnerAct({ account: owners[2]!, primaryType: 'FreezeAgent', message: { wallet, agentId: agentKey.agentId, frozen: true, seq: String(info.ownerSeq + 1) } })
    const res = await fetch(`${stack.url}/v1/owner/acts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: string }).code).toBe('owner_not_authorized')
    const still = await clients[1]!.wallet(wallet)
    expect(still.agents[0]!.frozen).toBe(false)
    expect(still.ownerSeq).toBe(info.ownerSeq)
    // The remaining owners still act: one of them freezes at once.
    expect((await clients[1]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true })).proposal).toBeUndefined()
  }, 30_000)
})
