import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { expect } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, type CliResult, type PolicyBody, TOKEN, TOKEN_ENTRY, auditEntries, eip3009, paymentPolicy, runCli, verifyEip3009, waitAgentFloor } from './agentClient.js'
import { type Stack, startStack } from './startStack.js'

export type QuorumWallet = {
  stack: Stack
  dir: string
  keys: Hex[]
  owners: LocalAccount[]
  clients: OwnerClient[]
  wallet: Hex
  agentKey: AgentKey
  /** `bursar owner …` spawned with owner `who`'s key (an index into keys, or a key). */
  cli: (who: number | Hex, args: string[]) => Promise<CliResult>
}

/** Thresholds per class; the governance tests use 1 to stop and 2 of 3 for the rest. */
export const TWO_OF_THREE = { stopQuorum: '1', approveQuorum: '2', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '2' }

/**
 * The governance tests' set-up, through the real host and enclave: a stack, `owners` owner keys, a wallet created by
 * the first with one agent (per-payment cap 1000), and unless `quorum` is null a SetOwners giving all of them the
 * wallet with these thresholds and delay (applied by the creating owner alone, 1 of 1).
 */
export async function startQuorumWallet(o: { prefix: string; owners?: number; quorum?: Record<string, string> | null; delaySeconds?: number; policy?: PolicyBody; env?: Record<string, string>; cliEnv?: Record<string, string> }): Promise<QuorumWallet> {
  const stack = await startStack(o.env ? { env: o.env } : {})
  const dir = mkdtempSync(path.join(tmpdir(), `bursar-${o.prefix}-`))
  const keys = Array.from({ length: o.owners ?? 3 }, () => generatePrivateKey())
  const owners = keys.map((k) => privateKeyToAccount(k))
  const clients = owners.map((a) => new OwnerClient(stack.url, a))
  const { wallet } = await clients[0]!.createWallet('team')
  const { agentKey } = await setupAgent({ host: stack.url, owner: owners[0]!, wallet, policy: o.policy ?? paymentPolicy({ perTx: '1000', rolling24h: '100000' }) })
  if (o.quorum !== null) {
    const set = await clients[0]!.act('SetOwners', wallet, { owners: owners.map((a) => a.address), ...(o.quorum ?? TWO_OF_THREE), delaySeconds: String(o.delaySeconds ?? 0) })
    if (set.proposal) throw new Error('SetOwners did not apply')
    await waitAgentFloor()
  }
  const cli = (who: number | Hex, args: string[]) =>
    runCli(['owner', ...args], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: typeof who === 'number' ? keys[who]! : who, HOME: dir, ...o.cliEnv }, dir)
  return { stack, dir, keys, owners, clients, wallet, agentKey, cli }
}

/** The wallet's agent asks for a 500-unit EIP-3009 payment: signed and verified by viem (ok), or the refusal's code. */
export async function tryPay(q: QuorumWallet): Promise<{ ok: boolean; code?: string }> {
  const operation = eip3009({ wallet: q.wallet, value: 500n })
  try {
    const r = await requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation })
    return { ok: await verifyEip3009(q.wallet, operation, r.signature as Hex) }
  } catch (e) {
    return { ok: false, code: (e as { code?: string }).code }
  }
}

/**
 * rt34a's set-up (tidy42: dryRunAppliesHeldActUnaudited and refusedOwnerActAppliesHeldActUnaudited each wrote it), on a
 * 2-of-3 wallet: owner 2 freezes the agent alone (a stop), then owners 0 and 1 accept an unfreeze, held for the
 * wallet's delay. Returns its schedule.
 */
export async function heldUnfreeze(q: QuorumWallet): Promise<{ actHash: string; effectiveAt: number }> {
  const agentId = q.agentKey.agentId
  expect((await q.clients[2]!.act('FreezeAgent', q.wallet, { agentId, frozen: true })).proposal).toBeUndefined()
  const one = await q.clients[0]!.act('FreezeAgent', q.wallet, { agentId, frozen: false })
  const thaw = (await q.clients[1]!.cosign(q.wallet, one.proposal!.actHash)) as unknown as { scheduled: { actHash: string; effectiveAt: number } }
  expect(thaw.scheduled.actHash).toMatch(/^0x/)
  return thaw.scheduled
}

/**
 * Once the held unfreeze `actHash` has applied: its `agent_unfrozen` entry is stored once, the agent pays, and after an
 * enclave restart nothing is held, the agent pays, and the entry is still there once (applied, audited and sealed).
 */
export async function expectHeldUnfreezeStoredOnce(q: QuorumWallet, actHash: string): Promise<void> {
  const applied = async () => (await auditEntries(q.stack.url, q.owners[0]!, { wallet: q.wallet })).filter((e) => e.requestId === actHash && e.event === 'agent_unfrozen')
  expect((await applied()).length).toBe(1)
  expect(await tryPay(q)).toEqual({ ok: true })
  await q.stack.stopEnclave()
  await q.stack.startEnclave()
  await q.stack.waitReady()
  expect((await q.clients[0]!.wallet(q.wallet)).held).toEqual([])
  expect(await tryPay(q)).toEqual({ ok: true })
  expect((await applied()).length).toBe(1)
}

/** Every payment goes to the owners: no rule matches a real payee, so each request waits as pending. */
export const ASK_OWNERS_POLICY: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' }],
  rules: [{ id: 'ask-owners', effect: 'allow', kinds: ['eip3009'], payTo: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}
