import { GENESIS_HASH } from './hashAuditEntry.js'

/**
 * Issue 15 step 2, verifier side (never imported by the enclave): each wallet's thread inside the global chain.
 * An entry naming a wallet carries walletSeq (1, 2, … per wallet) and walletPrev (the hash of that wallet's previous
 * entry; GENESIS_HASH for walletSeq 1). Entries written before threads existed carry neither: a wallet's thread
 * starts at the first entry that carries them, and from the first threaded entry of the log on, every entry naming
 * a wallet must carry them. `anchored`: the log starts after genesis (a slice after a head seen before), so a
 * wallet's first entry in it may continue a thread begun earlier (the global chain links it).
 */
export class WalletThreads {
  /** Lower-case wallet → its thread head (last walletSeq, entry hash). */
  readonly heads = new Map<string, { walletSeq: number; hash: string }>()
  private threaded = false

  constructor(private readonly anchored: boolean) {}

  /** Checks one entry (its hash already verified) and moves its wallet's head: a failure message, or undefined. */
  next(e: { wallet: string | null; walletSeq?: number | undefined; walletPrev?: string | undefined }, hash: string): string | undefined {
    const { wallet, walletSeq, walletPrev } = e
    if (walletSeq === undefined && walletPrev === undefined) {
      return wallet !== null && this.threaded ? `names wallet ${wallet} but carries no walletSeq/walletPrev after wallet threads began` : undefined
    }
    if (wallet === null || walletSeq === undefined || walletPrev === undefined) return 'carries half a wallet thread (walletSeq and walletPrev go together, on entries naming a wallet)'
    this.threaded = true
    const key = wallet.toLowerCase()
    const t = this.heads.get(key)
    const why = threadBreak(t, walletSeq, walletPrev, this.anchored)
    if (why !== undefined) return `wallet ${wallet}: ${why}`
    this.heads.set(key, { walletSeq, hash })
    return undefined
  }
}

/** Why an entry (walletSeq, walletPrev) does not continue the thread head `t` (undefined: it does). */
export function threadBreak(t: { walletSeq: number; hash: string } | undefined, walletSeq: number, walletPrev: string, anchored: boolean): string | undefined {
  if (t === undefined) {
    if (walletSeq === 1) return walletPrev === GENESIS_HASH ? undefined : `walletSeq 1 must have walletPrev ${GENESIS_HASH}, has ${walletPrev}`
    return anchored ? undefined : `the thread starts at walletSeq ${walletSeq}, not 1 (entries of this wallet are missing)`
  }
  if (walletSeq !== t.walletSeq + 1) return `walletSeq ${walletSeq} follows walletSeq ${t.walletSeq} (${walletSeq <= t.walletSeq ? 'repeated or out of order' : 'entries missing'})`
  if (walletPrev !== t.hash) return `walletSeq ${walletSeq}: walletPrev ${walletPrev} is not the hash of walletSeq ${t.walletSeq} (${t.hash})`
  return undefined
}
