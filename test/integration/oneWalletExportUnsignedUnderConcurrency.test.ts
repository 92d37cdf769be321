import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import type { AuditReceipt } from '../../shared/audit/verifyReceipt.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, runCli, signedBody, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * Failure (rt30a, issue 15): under concurrent payments for two wallets, a one-wallet export
 * (`GET /v1/audit/export?wallet=`, `bursar audit verify --wallet`) was mostly unsigned: the enclave signed one
 * checkpoint per turn, at the turn's last entry, so a wallet's own seqs rarely carried one and `signedThrough` lagged
 * (the rest of the thread only linked, rewritable wholesale by the host). Now each answer's checkpoint signs its own
 * entry: both wallets' exports verify signed through their last entry. Real host and simulated enclave.
 */
describe('one-wallet exports under concurrent payments for two wallets are signed through the wallet\'s last entry', () => {
  let s: StackWithAgent
  let publicKey: string
  let walletB: Hex
  let agentB: AgentKey
  const receipts = new Map<string, AuditReceipt[]>()

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '1000000', rolling24h: '1000000000' })
    s = await stackWithAgent(policy)
    walletB = (await s.client.createWallet('b')).wallet
    agentB = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet: walletB, policy })).agentKey
    publicKey = ((await (await fetch(`${s.stack.url}/readyz`)).json()) as { receiptPublicKey: string }).receiptPublicKey
    await waitAgentFloor()
    const pay = async (agentKey: AgentKey, wallet: Hex) => {
      const r = await postSign(s.stack.url, signedBody({ agentKey, wallet, operation: eip3009({ wallet, value: 1n }) }))
      expect(r.status).toBe(200)
      receipts.set(wallet.toLowerCase(), [...(receipts.get(wallet.toLowerCase()) ?? []), r.json.receipt as AuditReceipt])
    }
    for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? pay(agentB, walletB) : pay(s.agentKey, s.wallet))))
  }, 90_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  const exportWallet = async (wallet: string) => {
    const res = await fetch(`${s.stack.url}/v1/audit/export?format=jsonl&wallet=${wallet}`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-bursar-audit-scope')).toBe('wallet')
    return parseAuditJsonl(await res.text())
  }

  it('the two wallets\' entries interleave in the chain (the one-wallet exports have gaps)', async () => {
    const [a, b] = [await exportWallet(s.wallet), await exportWallet(walletB)]
    const bSeqs = b.entries.map((e) => e.seq)
    const gaps = a.entries.slice(1).filter((e, i) => bSeqs.some((q) => q > a.entries[i]!.seq && q < e.seq)).length
    expect(gaps).toBeGreaterThan(5)
  })

  for (const which of ['A', 'B'] as const) {
    it(`wallet ${which}'s one-wallet export verifies signed through its last entry, with and without its receipts`, async () => {
      const wallet = which === 'A' ? s.wallet : walletB
      const log = await exportWallet(wallet)
      const last = log.entries.at(-1)!
      expect(last.seq).toBe(receipts.get(wallet.toLowerCase())!.at(-1)!.seq)
      const r = verifyWalletThread({ wallet, ...log, publicKey })
      expect(r).toMatchObject({ ok: true })
      if (r.ok) expect(r.signedThrough).toMatchObject({ seq: last.seq, walletSeq: last.walletSeq })
      expect(verifyWalletThread({ wallet, ...log, publicKey, receipts: receipts.get(wallet.toLowerCase())! })).toMatchObject({ ok: true })
      const cli = await runCli(['audit', 'verify', '--host', s.stack.url, '--header', `authorization: Bearer ${s.stack.auditToken}`, '--public-key', publicKey, '--wallet', wallet])
      expect(cli.code, cli.stderr).toBe(0)
      expect(cli.stdout).toContain(`signed through walletSeq ${last.walletSeq} (seq ${last.seq})`)
      expect(cli.stdout).not.toContain('WARNING')
    }, 30_000)
  }
})
