import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { type Stack, startStack } from '../helpers/startStack.js'
import { type StackWithAgent, eip3009, paymentPolicy, runCli, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

const CAP = 1_000n
const AMOUNT = 200n

/**
 * Issue 15 step 3 through real host + enclave processes: pair A (host + simulated enclave) holds wallet W; the
 * operator drops W from A (POST /v1/operator/wallets/W/drop, Bearer operator token); pair B — another host + enclave,
 * on the SAME SQLite store and sealing key — started while A runs, loads W (…/load): the newest stored blob (A's final
 * one) and its tail. The ledger carries over (A's spend + B's spend = the cap, never more), A refuses W afterwards
 * (wallet_not_loaded, 409), and `bursar audit verify --wallet W` on the store's one-wallet export verifies W's
 * thread across both enclaves.
 *
 * Both pairs write the root chain here (no BURSAR_CHAIN), so only one writes at a time: A writes nothing after B starts
 * (B continues the stored root chain: its first entry follows A's drop). Two pairs writing at once, each its own chain
 * (step 4): chainsTwoPairsAtOnce.test.ts.
 */
describe('a wallet moves between two host + enclave pairs on one store (drop, load)', () => {
  let a: StackWithAgent
  let b: Stack
  const work = mkdtempSync(path.join(tmpdir(), 'bursar-move-'))
  const spent = { a: 0n, b: 0n }
  const pay = (host: string) => {
    const operation = eip3009({ wallet: a.wallet, value: AMOUNT })
    return requestSignature({ host, agentKey: a.agentKey, wallet: a.wallet, operation }).then(async (r) => {
      expect(await verifyEip3009(a.wallet, operation, r.signature)).toBe(true)
      return r
    })
  }
  const codeOf = (p: Promise<unknown>) => p.then(() => 'SIGNED', (e: { code?: string; details?: string }) => e.code ?? e.details ?? String(e))
  const operator = (s: Stack, op: 'drop' | 'load', token = s.auditToken) =>
    fetch(`${s.url}/v1/operator/wallets/${a.wallet}/${op}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })

  beforeAll(async () => {
    a = await stackWithAgent(paymentPolicy({ perTx: '500', rolling24h: CAP.toString() }))
    await waitAgentFloor()
  })
  afterAll(async () => {
    await b?.stop()
    await a?.stack.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('A spends, the operator drops W from A; B (same store) loads it and spends the rest of the cap, not more', async () => {
    for (let i = 0; i < 2; i++) await pay(a.stack.url), (spent.a += AMOUNT)
    // Operator only: no token or a wrong one is refused, and nothing moves.
    expect((await fetch(`${a.stack.url}/v1/operator/wallets/${a.wallet}/drop`, { method: 'POST' })).status).toBe(401)
    expect((await operator(a.stack, 'drop', 'bat_wrong')).status).toBe(401)
    const dropped = await operator(a.stack, 'drop')
    expect(dropped.status, await dropped.clone().text()).toBe(200)
    expect(await dropped.json()).toMatchObject({ wallet: a.wallet.toLowerCase() })
    expect(await codeOf(pay(a.stack.url))).toBe('wallet_not_loaded')

    // Pair B: its own enclave process and host, on A's data dir (the SQLite store and the sim sealing key).
    const sock = path.join(a.stack.dataDir, 'b.sock')
    b = await startStack({ dataDir: a.stack.dataDir, env: { BURSAR_ENCLAVE_LISTEN: `unix:${sock}`, BURSAR_ENCLAVE: `unix:${sock}`, BURSAR_AUDIT_TOKEN: a.stack.auditToken } })
    await waitAgentFloor()
    expect(await codeOf(pay(b.url))).toBe('wallet_not_found') // B's core (A's drop core) does not name W
    const loaded = await operator(b, 'load')
    expect(loaded.status, await loaded.clone().text()).toBe(200)
    expect(await loaded.json()).toMatchObject({ wallet: a.wallet.toLowerCase() })
    expect((await operator(b, 'load')).status).toBe(409) // wallet_already_loaded
    while (spent.a + spent.b + AMOUNT <= CAP) await pay(b.url), (spent.b += AMOUNT)
    expect(await codeOf(pay(b.url))).toBe('policy_daily_cap_exceeded')
    expect(spent.a + spent.b).toBe(CAP)
    expect(await codeOf(pay(a.stack.url))).toBe('wallet_not_loaded') // A stays out of it
  })

  it('`bursar audit verify --wallet` verifies W\'s thread across both enclaves (one stored chain)', async () => {
    const publicKey = ((await (await fetch(`${b.url}/readyz`)).json()) as { receiptPublicKey: Hex }).receiptPublicKey
    // One lineage: B loaded A's core, so both sign with the same receipt key.
    expect(((await (await fetch(`${a.stack.url}/readyz`)).json()) as { receiptPublicKey: Hex }).receiptPublicKey).toBe(publicKey)
    const file = path.join(work, 'w.jsonl')
    const exp = await runCli(['audit', 'export', '--host', b.url, '--token', b.auditToken, '--wallet', a.wallet, '--out', file])
    expect(exp.code, exp.stderr).toBe(0)
    const entries = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; event?: string; walletSeq?: number })
      .filter((o) => o.type === 'entry')
    const events = entries.map((e) => e.event)
    expect(events.indexOf('wallet_dropped')).toBeGreaterThan(0)
    expect(events[events.indexOf('wallet_dropped') + 1]).toBe('wallet_loaded')
    expect(events.filter((e) => e === 'sign_allowed')).toHaveLength(Number(CAP / AMOUNT))
    const ok = await runCli(['audit', 'verify', '--file', file, '--public-key', publicKey, '--wallet', a.wallet])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toContain(`OK: wallet ${a.wallet}: thread of ${entries.length} entries (walletSeq 1..${entries.length})`)
  })
})
