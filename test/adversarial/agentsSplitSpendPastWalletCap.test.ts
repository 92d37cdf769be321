import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAgentStatus } from '../../agent/agentRead.js'
import { PolicyDeniedError } from '../../agent/errors.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, TOKEN, auditEntries, eip3009, paymentPolicy, pool, runCli, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const AMOUNT = 1_000n
const PER_AGENT = 300
const WALLET_CAP = 150n * AMOUNT
/** Each agent's own cap would let all 300 of its payments through: only the wallet-wide cap can stop them. */
const AGENT_CAP = String(BigInt(PER_AGENT) * AMOUNT * 10n)

/**
 * Attack: a wallet's agents (or one attacker holding three agent keys) split their spending across agents and fire
 * at once, so that each stays under its own cap while the wallet as a whole goes past the owner's wallet-wide cap.
 * Through the real host and enclave processes: 3 agents × 300 parallel requests against a wallet cap of 150
 * payments → exactly 150 signed (each recovered with viem), the rest refused with the wallet code, and the audit
 * log's ledger events sum to the cap to the unit.
 */
describe('adversarial: three agents split spending to get past the wallet-wide cap', () => {
  let stack: Stack
  let owner: LocalAccount
  let ownerKey: Hex
  let wallet: Hex
  let agents: AgentKey[]
  let dir: string
  const cli = (args: string[]) => runCli(['owner', ...args, '--json'], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: ownerKey, HOME: dir }, dir)
  const walletPolicyFile = (version: number, rolling24h: bigint) => {
    const file = path.join(dir, `wallet-v${version}.yaml`)
    writeFileSync(file, `version: ${version}\ntimeZone: UTC\nbudgets:\n  - chainId: ${CHAIN_ID}\n    asset: "${TOKEN}"\n    rolling24h: "${rolling24h}"\n`)
    return file
  }

  beforeAll(async () => {
    stack = await startStack()
    dir = mkdtempSync(path.join(tmpdir(), 'bursar-wallet-cap-'))
    ownerKey = generatePrivateKey()
    owner = privateKeyToAccount(ownerKey)
    ;({ wallet } = await new OwnerClient(stack.url, owner).createWallet('team'))
    agents = []
    for (const label of ['a', 'b', 'c']) {
      const s = await setupAgent({ host: stack.url, owner, wallet, label, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: AGENT_CAP }) })
      agents.push(s.agentKey)
    }
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it('the owner CLI installs the wallet policy (signed SetWalletPolicy) and shows it back', async () => {
    const set = await cli(['wallet', 'policy', 'set', '--wallet', wallet, walletPolicyFile(1, WALLET_CAP)])
    expect(set.code, set.stderr).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ wallet, policyVersion: 1 })
    const show = await cli(['wallet', 'policy', 'show', '--wallet', wallet])
    expect(show.code, show.stderr).toBe(0)
    const shown = JSON.parse(show.stdout)
    expect(shown).toMatchObject({ version: 1, policy: { wallet, budgets: [{ chainId: CHAIN_ID, asset: TOKEN, rolling24h: WALLET_CAP.toString() }] } })
    expect(shown.hash).toBe(JSON.parse(set.stdout).policyHash)
    // An older or equal version is refused by the CLI before signing (and by the enclave if sent anyway).
    const again = await cli(['wallet', 'policy', 'set', '--wallet', wallet, walletPolicyFile(1, WALLET_CAP * 2n)])
    expect(again.code).toBe(1)
    expect(again.stdout + again.stderr).toContain('policy_version_not_newer')
  }, 60_000)

  it(`3 agents × ${PER_AGENT} parallel requests: exactly ${WALLET_CAP / AMOUNT} signed, verified with viem; the ledger sums to the cap`, async () => {
    await waitAgentFloor()
    const jobs = agents.map((agentKey) => {
      const ops = Array.from({ length: PER_AGENT }, () => eip3009({ wallet, value: AMOUNT }))
      return pool(ops, 32, (operation) =>
        requestSignature({ host: stack.url, agentKey, wallet, operation }).then(
          (r) => ({ ok: true as const, agentKey, operation, signature: r.signature as Hex, signedHash: r.signedHash }),
          (error: unknown) => ({ ok: false as const, agentKey, operation, error }),
        ),
      )
    })
    const results = (await Promise.all(jobs)).flat()
    const signed = results.filter((r) => r.ok)
    const refused = results.flatMap((r) => (r.ok ? [] : [r.error]))
    expect(signed.length).toBe(Number(WALLET_CAP / AMOUNT))
    expect(refused.length).toBe(3 * PER_AGENT - signed.length)
    for (const e of refused) {
      expect(e).toBeInstanceOf(PolicyDeniedError)
      expect((e as PolicyDeniedError).code).toBe('policy_wallet_daily_cap_exceeded')
    }
    // Independent check: every signature recovers to the wallet for exactly the authorization that was asked for.
    for (const r of signed) expect(await verifyEip3009(wallet, r.operation, r.signature)).toBe(true)
    expect(new Set(signed.map((r) => r.signedHash)).size).toBe(signed.length)
    // Spending really was split: more than one agent got payments through.
    expect(new Set(signed.map((r) => r.agentKey.agentId)).size).toBeGreaterThan(1)

    // The audit log (the enclave's ledger events): exactly the cap spent, over every agent together.
    const entries = (await auditEntries(stack.url, owner, { wallet })).filter((e) => e.event === 'sign_allowed' || e.event === 'sign_denied')
    const allowed = entries.filter((e) => e.event === 'sign_allowed')
    expect(allowed.length).toBe(signed.length)
    expect(new Set(allowed.map((e) => e.signedHash))).toEqual(new Set(signed.map((r) => r.signedHash)))
    const spent = allowed.flatMap((e) => e.ledger as { type: string; amount?: string }[]).filter((l) => l.type === 'spend')
    expect(spent.reduce((t, l) => t + BigInt(l.amount!), 0n)).toBe(WALLET_CAP)
    expect(entries.filter((e) => e.event === 'sign_denied').every((e) => e.code === 'policy_wallet_daily_cap_exceeded')).toBe(true)

    // Each agent's budget output shows its own cap nearly untouched and the wallet-wide cap used up.
    for (const agentKey of agents) {
      const s = await readAgentStatus({ host: stack.url, agentKey, wallet })
      expect(BigInt(s.budgets[0]!.rolling24h!.remaining)).toBeGreaterThan(0n)
      expect(s.walletBudgets?.[0]?.rolling24h).toEqual({ limit: WALLET_CAP.toString(), used: WALLET_CAP.toString(), remaining: '0' })
    }
  }, 120_000)

  it('the wallet cap survives an enclave restart; a newer wallet policy (v2) widens it by exactly one payment', async () => {
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.waitReady()
    await waitAgentFloor()
    const pay = (i: number) => requestSignature({ host: stack.url, agentKey: agents[i]!, wallet, operation: eip3009({ wallet, value: AMOUNT }) })
    const after = await pay(0).catch((e) => e)
    expect(after).toBeInstanceOf(PolicyDeniedError)
    expect((after as PolicyDeniedError).code).toBe('policy_wallet_daily_cap_exceeded')

    const set = await cli(['wallet', 'policy', 'set', '--wallet', wallet, walletPolicyFile(2, WALLET_CAP + AMOUNT)])
    expect(set.code, set.stderr).toBe(0)
    const op = eip3009({ wallet, value: AMOUNT })
    const one = await requestSignature({ host: stack.url, agentKey: agents[1]!, wallet, operation: op })
    expect(await verifyEip3009(wallet, op, one.signature as Hex)).toBe(true)
    const two = await pay(2).catch((e) => e)
    expect((two as PolicyDeniedError).code).toBe('policy_wallet_daily_cap_exceeded')
  }, 60_000)
})
