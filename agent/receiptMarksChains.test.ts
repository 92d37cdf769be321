import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { toEd25519PublicKey } from '../shared/audit/toEd25519PublicKey.js'
import { chainReceiptScenarios, type ReceiptStep } from '../test/helpers/chainReceipts.js'
import { CHAIN_B, WALLET_W } from '../test/helpers/multiChainAuditLog.js'
import { checkReceipt, StateRollbackError } from './checkReceipt.js'
import { ReceiptMarks } from './ReceiptMarks.js'

const { publicKeyHex, scenarios } = chainReceiptScenarios()
const key = toEd25519PublicKey(publicKeyHex)
const scenario = (name: string) => scenarios.find((s) => s.name === name)!

/** Feeds the answers in order to one marks set, each checked against the marks as they were when it was "sent". */
function run(steps: ReceiptStep[], marks = new ReceiptMarks(null)): { refusedAt: number; error?: unknown } {
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!
    try {
      checkReceipt({ body: structuredClone(s.body) as unknown as Record<string, unknown>, key, keyHex: publicKeyHex, requestId: s.requestId, wallet: s.wallet, agentId: s.agentId, digest: s.digest, marks, before: marks.before(publicKeyHex, s.wallet) })
    } catch (error) {
      return { refusedAt: i, error }
    }
  }
  return { refusedAt: -1 }
}

/** Issue 15 step 4, contract point 5: seq marks per (receipt key, chain), walletSeq marks per wallet across chains. */
describe('receipt marks with several chains', () => {
  it('receiptsFromTwoChainsNoFalseRollback: wallets on two pairs and a wallet moving between them, chain B seqs below the root\'s', () => {
    const s = scenario('twoChainsNoFalseRollback')
    // The scenario means it: W's first receipt on chain B has a lower seq than its last on the root chain.
    const w = s.steps.filter((x) => x.wallet === WALLET_W).map((x) => ({ seq: x.body.receipt.seq as number, chain: (x.body.receipt.checkpoint as { chain?: string }).chain ?? '' }))
    const moved = w.findIndex((x) => x.chain === CHAIN_B)
    expect(w[moved]!.seq).toBeLessThan(w[moved - 1]!.seq)
    expect(run(s.steps)).toEqual({ refusedAt: -1 })
  })

  it('a real rollback is still detected: the root enclave keeps signing for a wallet loaded into B (fork), chain B restored to an older state', () => {
    for (const name of ['forkAcrossChains', 'restoredChainB']) {
      const s = scenario(name)
      expect(s.rollbackAt, name).toBeGreaterThan(0)
      const r = run(s.steps)
      expect(r.refusedAt, name).toBe(s.rollbackAt)
      expect(r.error, name).toBeInstanceOf(StateRollbackError)
      expect((r.error as StateRollbackError).code).toBe('state_rollback_detected')
    }
  })

  it('a checkpoint relabelled to another chain (or stripped of its chain) no longer verifies', () => {
    const s = scenario('twoChainsNoFalseRollback')
    const onB = s.steps.find((x) => (x.body.receipt.checkpoint as { chain?: string }).chain === CHAIN_B)!
    for (const chain of [undefined, 'aa'.repeat(16)]) {
      const body = structuredClone(onB.body) as unknown as { receipt: { checkpoint: Record<string, unknown> } }
      if (chain === undefined) delete body.receipt.checkpoint.chain
      else body.receipt.checkpoint.chain = chain
      const marks = new ReceiptMarks(null)
      expect(() => checkReceipt({ body: body as unknown as Record<string, unknown>, key, keyHex: publicKeyHex, requestId: onB.requestId, wallet: onB.wallet, agentId: onB.agentId, digest: onB.digest, marks, before: undefined })).toThrow(/receipt_checkpoint_invalid|does not verify/)
    }
  })

  it('the marks file: per-chain marks persist; a file from before chains (no "chains") loads', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-marks-'))
    const file = path.join(dir, 'marks.json')
    const marks = new ReceiptMarks(file)
    expect(run(scenario('twoChainsNoFalseRollback').steps, marks)).toEqual({ refusedAt: -1 })
    marks.flush()
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { v: number; marks: Record<string, { chain?: string }>; chains: Record<string, number> }
    expect(Object.keys(saved.chains).sort()).toEqual([`${publicKeyHex}|`, `${publicKeyHex}|${CHAIN_B}`])
    // A new process continues from the file: chain B restored to an older state is refused there too.
    const again = new ReceiptMarks(file)
    expect(again.chainSeq(publicKeyHex, CHAIN_B)).toBe(saved.chains[`${publicKeyHex}|${CHAIN_B}`])
    const restored = scenario('restoredChainB')
    expect(run(restored.steps.slice(restored.rollbackAt), again).refusedAt).toBe(0)
    // The format before chains: wallet marks only.
    const old = path.join(dir, 'old.json')
    writeFileSync(old, `${JSON.stringify({ v: 1, marks: { [`${publicKeyHex}|${WALLET_W}`]: { seq: 3, walletSeq: 2, entryHash: `0x${'00'.repeat(32)}` } } })}\n`)
    const loaded = new ReceiptMarks(old)
    expect(loaded.get(publicKeyHex, WALLET_W)).toEqual({ seq: 3, walletSeq: 2, entryHash: `0x${'00'.repeat(32)}` })
    expect(loaded.chainSeq(publicKeyHex, '')).toBeUndefined()
  })
})

describe('receipt scenarios shared with the Python SDK', () => {
  it('clients/python/tests/vectors/ts_receipts_chains.json is current (npx tsx scripts/genPythonReceiptVectors.ts)', async () => {
    const { RECEIPT_VECTORS_FILE, receiptVectorsText } = await import('../scripts/genPythonReceiptVectors.js')
    expect(readFileSync(RECEIPT_VECTORS_FILE, 'utf8')).toBe(receiptVectorsText())
  })
})
