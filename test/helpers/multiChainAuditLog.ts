import { sign } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { auditChainJsonlLine, auditCheckpointJsonlLine, auditEntryJsonlLine, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditBody, mockEd25519Key } from '../../shared/audit/mockAuditLog.js'

/** One chain of a multi-chain log, as an export holds it. */
export type ChainLog = { chain: string; entries: AuditEntry[]; hashes: string[]; checkpoints: AuditCheckpoint[] }

export const WALLET_A = '0x1111111111111111111111111111111111111111' // pays on the root chain
export const WALLET_C = '0x3333333333333333333333333333333333333333' // pays on chain B
export const WALLET_W = '0x4444444444444444444444444444444444444444' // moves root → B → root
export const CHAIN_B = 'b0'.repeat(16)
export const CORE_ID = 'c0'.repeat(16)

/**
 * Issue 15 step 4 test fixture: two chains built with the real appender (core/audit/AuditChain, the enclave's) and the
 * real Ed25519 checkpoint signing (a checkpoint at every entry, as each persist block since turn15). Root: A pays,
 * W pays; chain B starts (chain_started) and C pays; W moves to B (wallet_dropped in root, its thread head handed to
 * B, wallet_loaded there), pays on B while A pays on root, and moves back. `fork`: W is loaded into B but root never
 * drops it and keeps signing for it (two enclaves from one state).
 */
export function multiChainAuditLog(opts: { fork?: boolean } = {}) {
  const { privateKey, publicKeyHex } = mockEd25519Key(7)
  const signer = (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey))
  const root: ChainLog = { chain: '', entries: [], hashes: [], checkpoints: [] }
  const b: ChainLog = { chain: CHAIN_B, entries: [], hashes: [], checkpoints: [] }
  const chains = new Map([[root, new AuditChain({ signer })], [b, new AuditChain({ signer, chain: CHAIN_B, core: CORE_ID })]])
  let i = 0
  const append = (log: ChainLog, body: Partial<AuditEntryBody> & Record<string, unknown>) => {
    const chain = chains.get(log) as AuditChain
    const n = i++
    const { entry, hash } = chain.append({ ...mockAuditBody(n), ...body } as AuditEntryBody)
    log.entries.push(entry)
    log.hashes.push(hash)
    log.checkpoints.push(chain.checkpoint(1_767_225_600_000 + n * 1000 + 1, { seq: entry.seq, hash }))
    return { entry, hash }
  }
  const info = { verdict: 'info' as const, action: null, signedHash: null, requestId: null, agentId: null, resourceUrl: undefined, ledger: [] }
  const pay = (log: ChainLog, wallet: string) => append(log, { wallet })
  const move = (from: ChainLog, to: ChainLog, drop = true) => {
    const src = chains.get(from) as AuditChain
    if (drop) append(from, { ...info, event: 'wallet_dropped', wallet: WALLET_W })
    const head = src.thread(WALLET_W)
    if (drop) src.setThread(WALLET_W, undefined)
    ;(chains.get(to) as AuditChain).setThread(WALLET_W, head)
    append(to, { ...info, event: 'wallet_loaded', wallet: WALLET_W })
  }

  append(root, { ...info, event: 'enclave_started', wallet: null })
  pay(root, WALLET_A)
  for (let k = 0; k < 3; k++) pay(root, WALLET_W)
  append(b, { ...info, event: 'chain_started', wallet: null }) // AuditChain names the chain and core at seq 0
  pay(b, WALLET_C)
  move(root, b, !opts.fork)
  for (let k = 0; k < 3; k++) {
    pay(b, WALLET_W)
    pay(root, WALLET_A)
    if (opts.fork) pay(root, WALLET_W)
    pay(b, WALLET_C)
  }
  if (!opts.fork) {
    move(b, root)
    for (let k = 0; k < 2; k++) pay(root, WALLET_W)
  }
  pay(root, WALLET_A)
  return { publicKeyHex, signer, root, b, chains: [b] }
}

/** The whole export (root lines, then chain B's after its header). */
export function multiChainJsonl(log: { root: ChainLog; chains: ChainLog[] }): string {
  return toAuditJsonl({ ...log.root, chains: log.chains })
}

/**
 * One wallet's export as contract point 3 describes it: its entries in walletSeq order, in runs per chain, each run
 * after its chain's header (a root run after another chain's: the `""` header), with the checkpoints at their seqs.
 */
export function oneWalletJsonl(log: { root: ChainLog; chains: ChainLog[] }, wallet: string): string {
  const all = [log.root, ...log.chains].flatMap((c) => c.entries.map((e, i) => ({ c, e, hash: c.hashes[i] as string })).filter((x) => x.e.wallet?.toLowerCase() === wallet.toLowerCase()))
  all.sort((x, y) => (x.e.walletSeq ?? 0) - (y.e.walletSeq ?? 0))
  const lines: string[] = []
  let current: ChainLog = log.root
  for (const { c, e, hash } of all) {
    if (c !== current) lines.push(auditChainJsonlLine(c.chain))
    current = c
    lines.push(auditEntryJsonlLine(e, hash))
    for (const cp of c.checkpoints) if (cp.seq === e.seq) lines.push(auditCheckpointJsonlLine(cp))
  }
  return lines.map((l) => `${l}\n`).join('')
}
