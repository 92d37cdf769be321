import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { BaseError } from '../../shared/errors/base.js'

const WalletMarkSchema = z
  .object({ ownerSeq: z.number().int(), stateVersion: z.number().int(), auditSeq: z.number().int(), auditHash: z.string(), act: z.string(), time: z.number(), chain: z.string().optional() })
  .strict()
export type WalletMark = z.infer<typeof WalletMarkSchema>
/** fix15: the highest state version and audit seq of any receipt in one chain ('' = root) of a host's enclaves. */
const ChainMarkSchema = z.object({ stateVersion: z.number().int(), auditSeq: z.number().int() }).strict()
export type ChainMark = z.infer<typeof ChainMarkSchema>

const MarksFileSchema = z
  .object({
    v: z.literal(1),
    hosts: z.record(
      z.string(),
      z
        .object({
          /** Ed25519 SPKI (hex) that signs this host's enclave receipts. */
          receiptPublicKey: z.string(),
          /** 'attestation': taken from a document verified against --root; 'first-use': pinned on first contact (TOFU). */
          pinnedBy: z.enum(['attestation', 'first-use']),
          wallets: z.record(z.string(), WalletMarkSchema),
          /** fix15 (issue 15 step 4): absent in files written before per-chain marks. */
          chains: z.record(z.string(), ChainMarkSchema).optional(),
        })
        .strict(),
    ),
  })
  .strict()
type MarksFile = z.infer<typeof MarksFileSchema>
export type HostMarks = MarksFile['hosts'][string]

/** Where the owner's high-water marks live: BURSAR_STATE_DIR, else ~/.bursar/state. */
export function defaultMarksFile(): string {
  return path.join(process.env.BURSAR_STATE_DIR ?? path.join(homedir(), '.bursar', 'state'), 'owner-marks.json')
}

/**
 * The owner's high-water marks, per host and wallet: the newest receipt the
 * enclave signed for each wallet (owner seq, state version, audit head) and
 * the pinned receipt key. SECURITY: these outlive every CLI invocation, so a
 * host that restarts the enclave on an older snapshot is caught on the next
 * act. `file: null` keeps them in memory only (library use, tests).
 */
export class OwnerMarks {
  private data: MarksFile

  constructor(readonly file: string | null) {
    this.data = { v: 1, hosts: {} }
    if (!file) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      return // no marks yet
    }
    const parsed = MarksFileSchema.safeParse((() => { try { return JSON.parse(text) } catch { return null } })())
    if (!parsed.success) {
      throw new BaseError('owner_marks_invalid', `${file} is not a bursar owner-marks file`, {
        metaMessages: ['Restore it from a backup; deleting it drops your rollback protection for every host (marks start over).'],
      })
    }
    this.data = parsed.data
  }

  host(host: string): HostMarks | undefined {
    return this.data.hosts[host]
  }

  pin(host: string, receiptPublicKey: string, pinnedBy: HostMarks['pinnedBy']): void {
    const prev = this.data.hosts[host]
    this.data.hosts[host] = { receiptPublicKey: receiptPublicKey.toLowerCase(), pinnedBy, wallets: prev?.wallets ?? {}, ...(prev?.chains && { chains: prev.chains }) }
    this.save()
  }

  wallet(host: string, wallet: string): WalletMark | undefined {
    return this.data.hosts[host]?.wallets[wallet.toLowerCase()]
  }

  /** The highest numbers seen in `chain` ('' = root) behind this host. */
  chain(host: string, chain: string): ChainMark | undefined {
    return this.data.hosts[host]?.chains?.[chain]
  }

  /**
   * Records a verified receipt's numbers; `reset` (resync) accepts lower state numbers, otherwise they only grow.
   * fix15: state version and audit seq compare only within one chain (each pair of a per-wallet cluster writes its
   * own): a wallet's mark takes the receipt's chain and numbers when the wallet moved to another chain (its owner seq
   * still only grows), and the chain's own mark keeps the highest of each.
   */
  record(host: string, wallet: string, mark: WalletMark, reset = false): void {
    const h = this.data.hosts[host]
    if (!h) return
    const prev = h.wallets[wallet.toLowerCase()]
    const sameChain = prev !== undefined && (prev.chain ?? '') === (mark.chain ?? '') && prev.stateVersion >= 0
    h.wallets[wallet.toLowerCase()] =
      prev && !reset
        ? sameChain
          ? { ...mark, ownerSeq: Math.max(prev.ownerSeq, mark.ownerSeq), stateVersion: Math.max(prev.stateVersion, mark.stateVersion), auditSeq: Math.max(prev.auditSeq, mark.auditSeq) }
          : { ...mark, ownerSeq: Math.max(prev.ownerSeq, mark.ownerSeq) }
        : mark
    const c = mark.chain ?? '', had = h.chains?.[c]
    h.chains = { ...h.chains, [c]: had && !reset ? { stateVersion: Math.max(had.stateVersion, mark.stateVersion), auditSeq: Math.max(had.auditSeq, mark.auditSeq) } : { stateVersion: mark.stateVersion, auditSeq: mark.auditSeq } }
    this.save()
  }

  /** A seq that may have been applied (unknown outcome) is never signed again. */
  bumpSeq(host: string, wallet: string, seq: number): void {
    const h = this.data.hosts[host]
    if (!h) return
    const prev = h.wallets[wallet.toLowerCase()]
    if (prev && prev.ownerSeq >= seq) return
    h.wallets[wallet.toLowerCase()] = prev ? { ...prev, ownerSeq: seq } : { ownerSeq: seq, stateVersion: -1, auditSeq: -1, auditHash: '', act: 'unknown', time: Date.now() }
    this.save()
  }

  private save(): void {
    if (!this.file) return
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 })
    renameSync(tmp, this.file)
  }
}
