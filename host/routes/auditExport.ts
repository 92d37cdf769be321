import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { AUDIT_CSV_COLUMNS, toAuditCsv } from '../../shared/audit/exportFormats.js'
import type { Store, StoredCheckpoint } from '../storage/Store.js'

const PAGE = 2_000

/**
 * The whole log as text chunks, streamed a page at a time: JSONL (entry
 * lines with their recorded hash, each checkpoint right after the entry it
 * covers) or CSV (RFC 4180, CRLF, formula-safe; lossy, for people). The host
 * serves what it stored; the auditor's verifier decides whether it holds.
 */
export async function* auditExport(store: Store, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield `${AUDIT_CSV_COLUMNS.join(',')}\r\n`
  let cps: StoredCheckpoint[] = []
  let ci = 0
  let cpAfter = -1
  let cpsExhausted = false
  const nextCheckpoint = async (): Promise<StoredCheckpoint | undefined> => {
    if (ci >= cps.length && !cpsExhausted) {
      cps = await store.checkpoints(cpAfter, PAGE)
      ci = 0
      cpsExhausted = cps.length < PAGE
    }
    return cps[ci]
  }
  for (let after = -1; ; ) {
    const texts = await store.entriesAfter(after, PAGE)
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
