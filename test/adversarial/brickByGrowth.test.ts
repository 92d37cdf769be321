import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { HostRequestError, OwnerClient } from '../../cli/lib/OwnerClient.js'
import { OWNER_LIMITS } from '../../shared/owner/ownerLimits.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, MERCHANT, TOKEN, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const account = () => privateKeyToAccount(generatePrivateKey())

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number }> {
  const err = await p.then(() => null, (e: unknown) => e)
  if (!(err instanceof HostRequestError)) throw new Error(`expected a refusal, got ${String(err)}`)
  return { code: err.code, status: err.status }
}

/**
 * Finding 2 of issue 13 (reproduced on 3d8d5af): anyone could create wallets,
 * a wallet took unlimited agents and SetPolicy stored the raw text (256 KiB
 * of whitespace), so a stranger grew the one sealed snapshot past the frame
 * limit in ~100 s; from then on every owner act halted the enclave and it
 * never reached `ready` again. Now wallet creation is admission-controlled in
 * the enclave (operator allowlist), every state-growing act past a bound is
 * refused with a typed limit_* code (HTTP 429) before anything changes, and
 * policies are stored as canonical JSON under a size limit.
 */
describe('brick by growth: admission control and bounded state', () => {
  let stack: Stack
  const victim = account()
  const attacker = account() // admitted by the operator, then tries to grow the state
  const stranger = account() // never admitted
  const others = Array.from({ length: Math.ceil(OWNER_LIMITS.walletsTotal / OWNER_LIMITS.walletsPerOwner), }, account)
  let victimWallet: `0x${string}`
  let victimAgent: Awaited<ReturnType<typeof setupAgent>>['agentKey']

  beforeAll(async () => {
    const allow = [victim, attacker, ...others].map((a) => a.address).join(',')
    stack = await startStack({ env: { BURSAR_OWNER_ALLOWLIST: allow } })
    victimWallet = (await new OwnerClient(stack.url, victim).createWallet('victim')).wallet
    victimAgent = (await setupAgent({ host: stack.url, owner: victim, wallet: victimWallet, policy: paymentPolicy({ perTx: '1000000', rolling24h: '5000000' }) })).agentKey
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  const ready = async () => (await fetch(`${stack.url}/readyz`)).status

  it('a stranger cannot create wallets (owner_not_admitted, enforced by the enclave and attested)', async () => {
    expect(await refusal(new OwnerClient(stack.url, stranger).createWallet('x'))).toEqual({ code: 'owner_not_admitted', status: 403 })
    const att = (await (await fetch(`${stack.url}/v1/attestation`)).json()) as { userDataInputs: { configVersion: string } }
    expect(att.userDataInputs.configVersion).toMatch(/;admission=allowlist:[0-9a-f]{32}$/)
    expect(stack.logs.join('')).not.toMatch(/WALLET CREATION IS OPEN/)
  })

  it('wallets per owner, agents per wallet, policy size, permits per agent: each refused past its limit', async () => {
    const c = new OwnerClient(stack.url, attacker)
    const wallets: `0x${string}`[] = []
    for (let i = 0; i < OWNER_LIMITS.walletsPerOwner; i++) wallets.push((await c.createWallet(`w${i}`)).wallet)
    expect(await refusal(c.createWallet('one too many'))).toEqual({ code: 'limit_wallets_per_owner', status: 429 })

    const w = wallets[0]!
    const agents: string[] = []
    for (let i = 0; i < OWNER_LIMITS.agentsPerWallet; i++) {
      const k = generateAgentKey({ wallet: w })
      await c.act('RegisterAgent', w, { agentId: k.agentId, agentPublicKey: `0x${k.publicKey}`, label: '' })
      agents.push(k.agentId)
    }
    const extra = generateAgentKey({ wallet: w })
    expect(await refusal(c.act('RegisterAgent', w, { agentId: extra.agentId, agentPublicKey: `0x${extra.publicKey}`, label: '' }))).toEqual({
      code: 'limit_agents_per_wallet',
      status: 429,
    })

    // 256 KiB of whitespace around a small policy: accepted, but the enclave keeps only its canonical JSON.
    const agentId = agents[0]!
    const small = parsePolicy({ ...paymentPolicy({ perTx: '1', rolling24h: '1' }), wallet: w, agentId })
    const padded = `${' '.repeat(250 * 1024)}${JSON.stringify(small)}`
    await c.act('SetPolicy', w, { agentId, version: '1', policyHash: policyHash(small) }, padded)
    const stored = (await c.wallet(w)).agents.find((a) => a.agentId === agentId)!.policy!
    expect(stored.json.length).toBeLessThan(2048)
    expect(JSON.parse(stored.json)).toEqual(JSON.parse(JSON.stringify(small)))

    // A policy whose canonical form passes the limit (1000 pay-to addresses ≈ 44 KB) is refused.
    const payTo = Array.from({ length: 1000 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`)
    const base = paymentPolicy({ perTx: '1', rolling24h: '1', version: 2 })
    const big = parsePolicy({ ...base, rules: [{ ...base.rules[0]!, payTo: { in: payTo } }], wallet: w, agentId })
    expect(await refusal(c.act('SetPolicy', w, { agentId, version: '2', policyHash: policyHash(big) }, JSON.stringify(big)))).toEqual({
      code: 'limit_policy_size',
      status: 429,
    })

    const permit = (i: number, expiresIn = 3_600_000) => ({
      agentId,
      permitId: `pmt_${i}`,
      chainId: String(CHAIN_ID),
      asset: TOKEN,
      amount: '1',
      payTo: MERCHANT,
      host: '',
      expiresAt: String(Date.now() + expiresIn),
      exceedCaps: true,
    })
    expect(await refusal(c.act('IssuePermit', w, permit(999, OWNER_LIMITS.permitLifetimeMs + 86_400_000)))).toEqual({ code: 'limit_permit_lifetime', status: 429 })
    for (let i = 0; i < OWNER_LIMITS.permitsPerAgent; i++) await c.act('IssuePermit', w, permit(i))
    expect(await refusal(c.act('IssuePermit', w, permit(OWNER_LIMITS.permitsPerAgent)))).toEqual({ code: 'limit_permits_per_agent', status: 429 })
    expect(await ready()).toBe(200)
  }, 120_000)

  it('the enclave-wide wallet limit holds across owners', async () => {
    // Every wallet in the enclave: the operator's view (an owner sees only its own).
    let created = (await new OwnerClient(stack.url, victim, { readAuthorization: async () => `Bearer ${stack.auditToken}` }).wallets()).length
    let refused: { code: string; status: number } | null = null
    for (const o of others) {
      const c = new OwnerClient(stack.url, o)
      for (let i = 0; i < OWNER_LIMITS.walletsPerOwner && !refused; i++) {
        const r = await c.createWallet('fill').then(() => null, (e: unknown) => e)
        if (r === null) created++
        else if (r instanceof HostRequestError) refused = { code: r.code, status: r.status }
        else throw r
      }
    }
    expect(created).toBe(OWNER_LIMITS.walletsTotal)
    expect(refused).toEqual({ code: 'limit_wallets_total', status: 429 })
  }, 120_000)

  it('honest traffic still works: the victim freezes and unfreezes, the enclave reloads to ready, the agent pays', async () => {
    const c = new OwnerClient(stack.url, victim)
    await c.act('FreezeAgent', victimWallet, { agentId: victimAgent.agentId, frozen: true })
    await c.act('FreezeAgent', victimWallet, { agentId: victimAgent.agentId, frozen: false })
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.waitReady()
    await waitAgentFloor()
    const op = eip3009({ wallet: victimWallet, value: 500n })
    const paid = await postSign(stack.url, signedBody({ agentKey: victimAgent, wallet: victimWallet, operation: op }))
    expect(paid.status).toBe(200)
    expect(await verifyEip3009(victimWallet, op, paid.json.signature as `0x${string}`)).toBe(true)
    // The same client (marks in memory) keeps acting after the reload: receipts continue past its marks.
    const r = await c.act('FreezeAgent', victimWallet, { agentId: victimAgent.agentId, frozen: true })
    expect(r.receipt.ownerSeq).toBe(r.ownerSeq)
  }, 60_000)
})

