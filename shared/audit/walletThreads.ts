import { AUDIT_CODES, type AuditCode } from './auditCodes.js'
import { GENESIS_HASH } from './hashAuditEntry.js'

/**
 * Issue 15 step 4: a stretch of one wallet's thread inside one chain — walletSeq `first`..`last`, each entry linked to
 * the one before by walletPrev. A wallet that moves between chains has one run per stay; joinWalletRuns checks that
 * the runs of every chain together make one thread.
 */
export type WalletRun = {
  wallet: string
  /** The chain ('' = root). */
  chain: string
  first: number
  /** The first entry's walletPrev: the hash of walletSeq first - 1 (in whichever chain it is). */
  firstPrev: string
  firstSeq: number
  last: number
  lastHash: string
  lastSeq: number
}

type Head = { walletSeq: number; hash: string; run?: WalletRun }

/**
 * Issue 15 step 2, verifier side (never imported by the enclave): each wallet's thread inside the global chain.
 * An entry naming a wallet carries walletSeq (1, 2, … per wallet) and walletPrev (the hash of that wallet's previous
 * entry; GENESIS_HASH for walletSeq 1). Entries written before threads existed carry neither: a wallet's thread
 * starts at the first entry that carries them, and from the first threaded entry of the log on, every entry naming
 * a wallet must carry them. `anchored`: the log starts after genesis (a slice after a head seen before), so a
 * wallet's first entry in it may continue a thread begun earlier (the global chain links it).
 * `runs` (issue 15 step 4, an export of several chains): a wallet's entry may also continue its thread from another
 * chain (its first entry in this chain, or one after a jump in walletSeq while it was elsewhere): each stretch is
 * recorded as a WalletRun for joinWalletRuns instead of failing here; `threaded`: threads began before this chain.
 */
export class WalletThreads {
  /** Lower-case wallet → its thread head (last walletSeq, entry hash). */
  readonly heads = new Map<string, Head>()
  private threaded: boolean

  constructor(
    private readonly anchored: boolean,
    private readonly runs?: { chain: string; out: WalletRun[] },
    threaded = false,
  ) {
    this.threaded = threaded
  }

  /** Checks one entry (its hash already verified) and moves its wallet's head: a failure message, or undefined. */
  next(e: { wallet: string | null; walletSeq?: number | undefined; walletPrev?: string | undefined }, hash: string, seq = -1): string | undefined {
    const { wallet, walletSeq, walletPrev } = e
    if (walletSeq === undefined && walletPrev === undefined) {
      return wallet !== null && this.threaded ? `names wallet ${wallet} but carries no walletSeq/walletPrev after wallet threads began` : undefined
    }
    if (wallet === null || walletSeq === undefined || walletPrev === undefined) return 'carries half a wallet thread (walletSeq and walletPrev go together, on entries naming a wallet)'
    this.threaded = true
    const key = wallet.toLowerCase()
    const t = this.heads.get(key)
    const runs = this.runs
    if (runs !== undefined && (t === undefined ? walletSeq > 1 : walletSeq > t.walletSeq + 1)) {
      // Continues from another chain: a new run, linked by joinWalletRuns.
      const run: WalletRun = { wallet: key, chain: runs.chain, first: walletSeq, firstPrev: walletPrev, firstSeq: seq, last: walletSeq, lastHash: hash, lastSeq: seq }
      runs.out.push(run)
      this.heads.set(key, { walletSeq, hash, run })
      return undefined
    }
    const why = threadBreak(t, walletSeq, walletPrev, this.anchored)
    if (why !== undefined) return `wallet ${wallet}: ${why}`
    if (runs === undefined) this.heads.set(key, { walletSeq, hash })
    else {
      const run = t?.run ?? { wallet: key, chain: runs.chain, first: walletSeq, firstPrev: walletPrev, firstSeq: seq, last: walletSeq, lastHash: hash, lastSeq: seq }
      if (t?.run === undefined) runs.out.push(run)
      run.last = walletSeq
      run.lastHash = hash
      run.lastSeq = seq
      this.heads.set(key, { walletSeq, hash, run })
    }
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

/** A failure of joinWalletRuns: `chain` is the chain of the entry at `seq` (absent: the root chain). */
export type WalletRunFailure = { code: AuditCode; seq: number; chain?: string; message: string }

const chainName = (chain: string) => (chain === '' ? 'the root chain' : `chain ${chain}`)

/**
 * Issue 15 step 4: joins every wallet's runs across chains into one thread, in walletSeq order. Each run must begin
 * right after the one before ended (walletSeq + 1) and link to its last entry (walletPrev: the wallet_dropped →
 * wallet_loaded hand-over); the first run begins at walletSeq 1 (or anywhere, when the root chain is anchored after
 * genesis: the thread's start may lie before the anchor, whichever chain its first run here is in).
 * Two runs holding one walletSeq are a fork — two enclaves signed for the wallet from one state: `audit_wallet_forked`,
 * naming the wallet and both chains — when `signed` (chain → highest seq a verified checkpoint covers) covers both
 * runs; else `audit_thread_broken` (an unsigned run is no evidence about the enclaves). Runs are checked wallet by wallet in the order they first appear.
 */
export function joinWalletRuns(runs: readonly WalletRun[], anchoredRoot: boolean, signed?: ReadonlyMap<string, number>): WalletRunFailure | undefined {
  const byWallet = new Map<string, WalletRun[]>()
  for (const r of runs) {
    const list = byWallet.get(r.wallet)
    if (list === undefined) byWallet.set(r.wallet, [r])
    else list.push(r)
  }
  const at = (r: WalletRun) => (r.chain === '' ? {} : { chain: r.chain })
  for (const [wallet, list] of byWallet) {
    list.sort((a, b) => a.first - b.first || a.last - b.last)
    const head = list[0] as WalletRun
    if (head.first !== 1 && !anchoredRoot)
      return { code: AUDIT_CODES.threadBroken, seq: head.firstSeq, ...at(head), message: `seq ${head.firstSeq} of ${chainName(head.chain)}: wallet ${wallet}: the thread starts at walletSeq ${head.first}, not 1 (entries of this wallet are missing from every chain)` }
    for (let i = 1; i < list.length; i++) {
      const r = list[i - 1] as WalletRun
      const s = list[i] as WalletRun
      // rt32a (strangerFramesForkWithUnsignedChain): a fork is the enclaves' word only where both runs are signed (a
      // checkpoint of each chain at or after them); an unsigned run anyone could have written: the export is broken.
      const unsigned = signed !== undefined && [r, s].find((x) => x.lastSeq > (signed.get(x.chain) ?? -1))
      if (s.first <= r.last && unsigned)
        return { code: AUDIT_CODES.threadBroken, seq: s.firstSeq, ...at(s), message: `seq ${s.firstSeq} of ${chainName(s.chain)}: wallet ${wallet}: walletSeq ${s.first} is in ${chainName(r.chain)} and in ${chainName(s.chain)}, but ${chainName(unsigned.chain)}'s run of it (to seq ${unsigned.lastSeq}) is not signed (no signed checkpoint covers it): not evidence of a fork, a broken export` }
      if (s.first <= r.last)
        return {
          code: AUDIT_CODES.walletForked,
          seq: s.firstSeq,
          ...at(s),
          message: `wallet ${wallet} forked: walletSeq ${s.first} is in ${chainName(r.chain)} (its run walletSeq ${r.first}..${r.last}, seq ${r.firstSeq}..${r.lastSeq}) and in ${chainName(s.chain)} (seq ${s.firstSeq}): two enclaves signed for the wallet from one state`,
        }
      if (s.first !== r.last + 1)
        return { code: AUDIT_CODES.threadBroken, seq: s.firstSeq, ...at(s), message: `seq ${s.firstSeq} of ${chainName(s.chain)}: wallet ${wallet}: walletSeq ${s.first} follows walletSeq ${r.last} (in ${chainName(r.chain)}): walletSeq ${r.last + 1}..${s.first - 1} are in no chain of this export` }
      if (s.firstPrev !== r.lastHash)
        return { code: AUDIT_CODES.threadBroken, seq: s.firstSeq, ...at(s), message: `seq ${s.firstSeq} of ${chainName(s.chain)}: wallet ${wallet}: walletSeq ${s.first}'s walletPrev ${s.firstPrev} is not the hash of walletSeq ${r.last} (${r.lastHash}, seq ${r.lastSeq} of ${chainName(r.chain)})` }
    }
  }
  return undefined
}
