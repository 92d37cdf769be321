import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { AUDIT_CSV_COLUMNS, toAuditCsv } from '../../shared/audit/exportFormats.js'
import { type Store, type StoredCheckpoint, WALLET_CURSOR_START, type WalletEntryRow } from '../storage/Store.js'

const PAGE = 2_000

/**
 * The whole log as text chunks, streamed a page at a time: JSONL (entry
 * lines with their recorded hash, each checkpoint right after the entry it
 * covers) or CSV (RFC 4180, CRLF, formula-safe; lossy, for people). The host
 * serves what it stored; the auditor's verifier decides whether it holds.
 * Issue 15 step 4: the root chain's lines first, exactly as before chains; then each other chain's after a header
 * line `{"chain":"<id>","type":"chain"}` (docs/audit.md "Chains").
 */
export async function* auditExport(store: Store, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${AUDIT_CSV_COLUMNS.join(',')}\r\n`
  for (const chain of await store.chains()) {
    if (chain && format === 'jsonl') yield chainHeader(chain)
    yield* chainExport(store, format, chain)
  }
}

/** The line that opens a chain's section (or run, in a wallet's export). */
export function chainHeader(chain: string): string {
  return `${canonicalJson({ chain, type: 'chain' })}\n`
}

async function* chainExport(store: Store, format: 'jsonl' | 'csv', chain: string): AsyncGenerator<string> {
  let cps: StoredCheckpoint[] = []
  let ci = 0
  let cpAfter = -1
  let cpsExhausted = false
  const nextCheckpoint = async (): Promise<StoredCheckpoint | undefined> => {
    if (ci >= cps.length && !cpsExhausted) {
      cps = await store.checkpoints(cpAfter, PAGE, chain)
      ci = 0
      cpsExhausted = cps.length < PAGE
    }
    return cps[ci]
  }
  for (let after = -1; ; ) {
    const texts = await store.entriesAfter(after, PAGE, chain)
    if (texts.length === 0) break
    const rows = texts.map((t) => JSON.parse(t) as AuditEntry & { hash: string })
    after = (rows[rows.length - 1] as AuditEntry).seq
    if (format === 'csv') {
      const csv = toAuditCsv({ entries: rows.map(({ hash: _h, ...e }) => e as AuditEntry), hashes: rows.map((r) => r.hash) })
      yield csv.slice(csv.indexOf('\r\n') + 2) // the header went out once, above
      continue
    }
    const out: string[] = []
    for (const row of rows) {
      // Canonical lines (sorted keys, as hashed): `bursar audit verify` then hashes each line's own bytes (fast path).
      out.push(`${canonicalJson({ type: 'entry', ...row })}\n`)
      for (let c = await nextCheckpoint(); c && c.seq <= row.seq; c = await nextCheckpoint()) {
        out.push(`${canonicalJson({ type: 'checkpoint', ...c })}\n`)
        cpAfter = c.seq
        ci++
      }
    }
    yield out.join('')
  }
  if (format === 'jsonl') {
    // Checkpoints past the last stored entry (a host that dropped the tail) are served too: the verifier flags them.
    const rest: string[] = []
    for (let c = await nextCheckpoint(); c; c = await nextCheckpoint()) {
      rest.push(`${canonicalJson({ type: 'checkpoint', ...c })}\n`)
      cpAfter = c.seq
      ci++
    }
    if (rest.length) yield rest.join('')
  }
}

/**
 * Issue 15 step 4, one wallet's export (`?wallet=`): its entries across chains in thread order (walletSeq), in runs
 * per chain; a run of a non-root chain — or a root run after another chain's — opens with that chain's header line.
 * Each entry line is followed by its chain's checkpoint at exactly its seq, if stored (what authenticates it without
 * the other wallets' entries; docs/audit.md "Wallet threads").
 */
export async function* walletExport(store: Store, wallet: string, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${AUDIT_CSV_COLUMNS.join(',')}\r\n`
  let chain: string | null = null
  for (let cursor = WALLET_CURSOR_START; ; ) {
    const rows = await store.walletEntries(wallet, cursor, 1_000)
    const last = rows.at(-1)
    if (!last) return
    cursor = { walletSeq: last.walletSeq, chain: last.chain, seq: last.seq }
    const entries = rows.map((r) => JSON.parse(r.text) as AuditEntry & { hash: string })
    if (format === 'csv') {
      const csv = toAuditCsv({ entries: entries.map(({ hash: _h, ...e }) => e as AuditEntry), hashes: entries.map((r) => r.hash) })
      yield csv.slice(csv.indexOf('\r\n') + 2)
      continue
    }
    const out: string[] = []
    for (const run of runsByChain(rows)) {
      if (run[0]!.chain !== (chain ?? '')) out.push(chainHeader(run[0]!.chain))
      chain = run[0]!.chain
      const cps = new Map((await store.checkpointsAt(run.map((r) => r.seq), chain)).map((c) => [c.seq, c]))
      for (const r of run) {
        const c = cps.get(r.seq)
        out.push(`${canonicalJson({ type: 'entry', ...(JSON.parse(r.text) as object) })}\n${c ? `${canonicalJson({ type: 'checkpoint', ...c })}\n` : ''}`)
      }
    }
    yield out.join('')
  }
}

function runsByChain(rows: WalletEntryRow[]): WalletEntryRow[][] {
  const runs: WalletEntryRow[][] = []
  for (const r of rows) {
    if (runs.at(-1)?.[0]?.chain === r.chain) runs.at(-1)!.push(r)
    else runs.push([r])
  }
  return runs
}

