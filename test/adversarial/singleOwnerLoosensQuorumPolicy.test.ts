import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AgentFrozenError, PolicyDeniedError } from '../../agent/errors.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { HostRequestError, OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { auditEntries, eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import type { Stack } from '../helpers/startStack.js'

/**
 * Attack: one of three owners (a stolen key, or a rogue co-owner) tries to loosen an agent's policy alone on a wallet
 * whose owners require 2 of 3 to loosen. Through the real host and enclave: the lone signature changes nothing (the
 * agent is still held to the old cap), signing twice does not count twice, a second owner's co-signature (via the
 * CLI, which re-hashes what it signs) applies it, and any single owner can still stop the agent at once.
 */
describe('adversarial: a single owner loosens a 2-of-3 quorum policy', () => {
  let stack: Stack
  let owners: LocalAccount[]
  let clients: OwnerClient[]
  let wallet: Hex
  let agentKey: AgentKey
  let cli: QuorumWallet['cli']
  const pay = (value: bigint): Promise<{ ok: boolean; error?: unknown }> => {
    const operation = eip3009({ wallet, value })
    return requestSignature({ host: stack.url, agentKey, wallet, operation }).then(
      async (r) => ({ ok: await verifyEip3009(wallet, operation, r.signature as Hex) }),
      (e: unknown) => ({ ok: false, error: e }),
    )
  }
  const policyV = (version: number, perTx: string) => parsePolicy({ ...paymentPolicy({ perTx, rolling24h: '100000', version }), wallet, agentId: agentKey.agentId })

  beforeAll(async () => {
    // Three owners: 1 to stop, 2 of 3 for everything else, no delay.
    ;({ stack, owners, clients, wallet, agentKey, cli } = await startQuorumWallet({ prefix: 'quorum' }))
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it('one signature on a loosening does nothing; the same owner signing again does not count twice', async () => {
    expect((await pay(1500n)).ok).toBe(false)
    const v2 = policyV(2, '2000')
    const r = await clients[0]!.act('SetPolicy', wallet, { agentId: agentKey.agentId, version: '2', policyHash: policyHash(v2) }, JSON.stringify(v2))
    expect(r.proposal).toMatchObject({ act: 'SetPolicy', actClass: 'loosen', threshold: 2, signers: [owners[0]!.address] })
    const info = await clients[1]!.wallet(wallet)
    expect(info.agents[0]!.policy!.version).toBe(1)
    expect(info.ownerSeq).toBe(r.ownerSeq)
    const still = await pay(1500n)
    expect(still.ok).toBe(false)
    expect((still as { error: PolicyDeniedError }).error.code).toBe('policy_per_tx_cap_exceeded')
    const twice = await clients[0]!.cosign(wallet, r.proposal!.actHash).catch((e) => e)
    expect(twice).toBeInstanceOf(HostRequestError)
    expect((twice as HostRequestError).code).toBe('owner_act_replayed')
    expect((await pay(1500n)).ok).toBe(false)
  }, 30_000)

  it('the CLI shows who has signed (human and --json); a second owner co-signs through it and the policy applies', async () => {
    const listed = await cli(2, ['proposals', 'list', '--wallet', wallet, '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    const [p] = JSON.parse(listed.stdout)
    expect(p).toMatchObject({ wallet, act: 'SetPolicy', actClass: 'loosen', threshold: 2, signers: [owners[0]!.address] })
    const human = await cli(2, ['proposals', 'list', '--wallet', wallet])
    expect(human.stdout).toContain('1 of 2 owner signatures')
    expect(human.stdout).toContain(`signed: ${owners[0]!.address}`)
    expect(human.stdout).toMatch(new RegExp(`not yet: .*${owners[1]!.address}`, 'i'))
    const signed = await cli(1, ['proposals', 'sign', '--wallet', wallet, p.actHash, '--json'])
    expect(signed.code, signed.stdout + signed.stderr).toBe(0)
    expect(JSON.parse(signed.stdout)).toMatchObject({ act: 'SetPolicy', policyVersion: 2 })
    expect(JSON.parse((await cli(2, ['proposals', 'list', '--wallet', wallet, '--json'])).stdout)).toEqual([])
    expect(await pay(1500n)).toEqual({ ok: true })
    // The audit log names every signature: one partial, then the applied act.
    // A co-owner (not the creating owner) reads the wallet's audit log with its own token.
    const entries = await auditEntries(stack.url, owners[2]!, { wallet })
    const acts = entries.filter((e) => e.event === 'owner_act_signed' || e.event === 'policy_set').slice(-2)
    expect(acts.map((e) => e.event)).toEqual(['owner_act_signed', 'policy_set'])
    expect(acts[0]!.reason).toBe(`SetPolicy signed by ${owners[0]!.address} (1 of 2)`)
    expect(acts[0]!.requestId).toBe(p.actHash)
    expect(entries.at(-1)!.event).toBe('sign_allowed')
  }, 60_000)

  it('any single owner freezes at once (stop: 1 of 3); unfreezing is a loosening and waits for a second owner', async () => {
    const frozen = await clients[2]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true })
    expect(frozen.proposal).toBeUndefined()
    expect((await pay(10n)).error).toBeInstanceOf(AgentFrozenError)
    const thaw = await clients[2]!.act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: false })
    expect(thaw.proposal).toMatchObject({ actClass: 'loosen', signers: [owners[2]!.address] })
    expect((await pay(10n)).error).toBeInstanceOf(AgentFrozenError)
    await clients[0]!.cosign(wallet, thaw.proposal!.actHash)
    expect(await pay(10n)).toEqual({ ok: true })
  }, 30_000)

  it('a lying host cannot make an owner co-sign something else: the listed message must hash to the listed act', async () => {
    const v3 = policyV(3, '5000')
    const r = await clients[0]!.act('SetPolicy', wallet, { agentId: agentKey.agentId, version: '3', policyHash: policyHash(v3) }, JSON.stringify(v3))
    const honest = await clients[1]!.wallet(wallet)
    const forged = { ...honest, proposals: honest.proposals.map((p) => ({ ...p, policy: JSON.stringify(policyV(3, '999999')) })) }
    const liar = new OwnerClient(stack.url, owners[1]!)
    liar.wallet = async () => forged
    const refused = await liar.cosign(wallet, r.proposal!.actHash).catch((e) => e)
    expect((refused as HostRequestError).code).toBe('proposal_mismatch')
    expect((await clients[1]!.wallet(wallet)).agents[0]!.policy!.version).toBe(2)
  }, 30_000)
})
