import { sign } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditEntry, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { mockAuditBody, mockEd25519Key } from '../../shared/audit/mockAuditLog.js'
import { CHAIN_B, type ChainLog, CORE_ID, multiChainAuditLog } from './multiChainAuditLog.js'

/** One answer an agent gets: the host's body (receipt + the decision's own entry) and what the agent asked. */
export type ReceiptStep = { body: { receipt: Record<string, unknown>; auditEntry: AuditEntry; signedHash: string }; requestId: string; wallet: string; agentId: string; digest: string }
/** A sequence of answers to one agent process (one marks set), and the index of the first that must be refused (-1: none). */
export type ReceiptScenario = { name: string; steps: ReceiptStep[]; rollbackAt: number }

/** The sign_allowed entries of some chains as agent answers, in the order the enclaves decided them (entry time). */
function stepsOf(chains: ChainLog[]): ReceiptStep[] {
  const out: (ReceiptStep & { time: number })[] = []
  for (const c of chains)
    c.entries.forEach((e, i) => {
      if (e.event !== 'sign_allowed') return
      const checkpoint = c.checkpoints.find((cp) => cp.seq === e.seq)
      const receipt = { seq: e.seq, walletSeq: e.walletSeq, entryHash: c.hashes[i], checkpoint }
      out.push({ body: { receipt, auditEntry: e, signedHash: e.signedHash as string }, requestId: e.requestId as string, wallet: e.wallet as string, agentId: e.agentId as string, digest: e.signedHash as string, time: e.time })
    })
  return out.sort((x, y) => x.time - y.time).map(({ time: _t, ...s }) => s)
}

/**
 * Issue 15 step 4 receipt scenarios (the TS SDK's test and the Python SDK's vectors): `twoChainsNoFalseRollback` — one
 * agent with wallets on two pairs (A on the root chain, C on chain B) and W moving root → B → root: chain B's seqs are
 * below the root's, nothing is refused; `forkAcrossChains` — W loaded into B while the root enclave keeps signing for
 * it: the root's receipt at a walletSeq the agent already holds from B is refused; `restoredChainB` — after C's
 * receipts on chain B, a new wallet D (no marks) gets a receipt from chain B restarted from an older state (seq 1):
 * refused by the per-chain seq mark.
 */
export function chainReceiptScenarios(): { publicKeyHex: string; scenarios: ReceiptScenario[] } {
  const honest = multiChainAuditLog()
  const fork = multiChainAuditLog({ fork: true })
  const forkSteps = stepsOf([fork.root, fork.b])
  const forkAt = forkSteps.findIndex((s, i) => forkSteps.slice(0, i).some((p) => p.wallet === s.wallet && (p.body.receipt.walletSeq as number) >= (s.body.receipt.walletSeq as number)))
  // Chain B restarted from an older (here: empty) state under the same key and id: D pays at seq 1.
  const { privateKey, publicKeyHex } = mockEd25519Key(7)
  const older = new AuditChain({ signer: (m) => new Uint8Array(sign(null, m, privateKey)), chain: CHAIN_B, core: CORE_ID })
  const restored: ChainLog = { chain: CHAIN_B, entries: [], hashes: [], checkpoints: [] }
  for (const body of [{ ...mockAuditBody(100), event: 'chain_started', verdict: 'info', wallet: null }, { ...mockAuditBody(101), wallet: '0x5555555555555555555555555555555555555555' }]) {
    const { entry, hash } = older.append(body as AuditEntryBody)
    restored.entries.push(entry)
    restored.hashes.push(hash)
    restored.checkpoints.push(older.checkpoint(entry.time + 1, { seq: entry.seq, hash }))
  }
  const honestSteps = stepsOf([honest.root, honest.b])
  return {
    publicKeyHex,
    scenarios: [
      { name: 'twoChainsNoFalseRollback', steps: honestSteps, rollbackAt: -1 },
      { name: 'forkAcrossChains', steps: forkSteps, rollbackAt: forkAt },
      { name: 'restoredChainB', steps: [...honestSteps, ...stepsOf([restored])], rollbackAt: honestSteps.length },
    ],
  }
}
