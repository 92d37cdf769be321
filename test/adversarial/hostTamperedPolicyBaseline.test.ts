import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { installedPolicy } from '../../console/src/installedPolicy.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import { type Policy, policyHash } from '../../shared/schemas/policy.js'
import { paymentPolicy } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack (malicious host vs the owner console): the console used the policy TEXT the host serves in the wallet
 * view as (a) the policy editor's baseline — the diff "against the installed policy" — and (b) the permit form's
 * token list (asset, decimals). The owner's wallet only shows a policyHash and base units, so a host that serves
 * a doctored text makes the owner sign a policy with the host's additions (hidden from the diff) or a permit for
 * 10^12 times the amount typed (decimals 6 → 18). installedPolicy must refuse a text that is not the installed
 * policy: wrong hash, wrong binding, or (hash recomputed to match) disagreeing with the audit log's policy_set.
 */
describe('host serves a doctored installed policy to the console', () => {
  let stack: Stack
  let wallet: `0x${string}`
  let agent: WalletInfo['agents'][number]
  let entries: AuditEntry[]
  beforeAll(async () => {
    stack = await startStack({})
    const owner = privateKeyToAccount(generatePrivateKey())
    ;({ wallet } = await new OwnerClient(stack.url, owner).createWallet('tamper'))
    await setupAgent({ host: stack.url, owner, wallet, policy: paymentPolicy({ perTx: '100000', rolling24h: '1000000' }) })
    const auth = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account: owner, host: stack.url, expiresAt: Date.now() + 600_000 })}`
    const ws = (await (await fetch(`${stack.url}/v1/owner/wallets`, { headers: { authorization: auth } })).json()) as { wallets: WalletInfo[] }
    agent = ws.wallets.find((w) => w.address.toLowerCase() === wallet.toLowerCase())!.agents[0]!
    entries = ((await (await fetch(`${stack.url}/v1/audit/entries?after=-1&limit=1000`, { headers: { authorization: auth } })).json()) as { entries: AuditEntry[] }).entries
  })
  afterAll(async () => {
    await stack?.stop()
  })

  const doctor = (p: Policy): Policy => ({ ...p, tokens: p.tokens.map((t) => ({ ...t, decimals: 18 })) })

  it('the honest view checks out', () => {
    const r = installedPolicy(wallet, agent, entries)
    expect(r.ok).toBe(true)
  })

  it('refuses a doctored text under the real hash', () => {
    const real = JSON.parse(agent.policy!.json) as Policy
    const forged = { ...agent, policy: { ...agent.policy!, json: JSON.stringify(doctor(real)) } }
    expect(installedPolicy(wallet, forged, entries)).toMatchObject({ ok: false })
  })

  it('refuses a doctored text with its hash recomputed (the audit log names the real policy)', () => {
    const fake = doctor(JSON.parse(agent.policy!.json) as Policy)
    const forged = { ...agent, policy: { ...agent.policy!, json: JSON.stringify(fake), hash: policyHash(fake) } }
    expect(installedPolicy(wallet, forged, entries)).toMatchObject({ ok: false })
  })

  it('refuses a policy bound to another agent or wallet', () => {
    const real = JSON.parse(agent.policy!.json) as Policy
    const other = { ...real, agentId: `agt_${'cd'.repeat(20)}` }
    const forged = { ...agent, policy: { ...agent.policy!, json: JSON.stringify(other), hash: policyHash(other) } }
    expect(installedPolicy(wallet, forged, [])).toMatchObject({ ok: false })
  })
})
