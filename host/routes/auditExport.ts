import type { Store } from '../storage/Store.js'

/** JSONL export: every entry (with hash) then every checkpoint, one JSON object per line. */
export async function exportJsonl(store: Store): Promise<string> {
  const lines: string[] = []
  for (let after = -1; ; ) {
    const texts = await store.entriesAfter(after, 5_000)
    if (texts.length === 0) break
    for (const t of texts) lines.push(JSON.stringify({ type: 'entry', ...JSON.parse(t) }))
    after = (JSON.parse(texts[texts.length - 1]!) as { seq: number }).seq
  }
  for (let after = -1; ; ) {
    const cps = await store.checkpoints(after, 5_000)
    if (cps.length === 0) break
    for (const c of cps) lines.push(JSON.stringify({ type: 'checkpoint', ...c }))
    after = cps[cps.length - 1]!.seq
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/** CSV export (human columns). */
export async function exportCsv(store: Store): Promise<string> {
  const { toAuditCsv } = await import('../../shared/audit/exportFormats.js')
  const entries: unknown[] = []
  const hashes: string[] = []
  for (let after = -1; ; ) {
    const texts = await store.entriesAfter(after, 5_000)
    if (texts.length === 0) break
    for (const t of texts) {
      const { hash, ...entry } = JSON.parse(t) as { hash: string; seq: number }
      entries.push(entry)
      hashes.push(hash)
    }
    after = (JSON.parse(texts[texts.length - 1]!) as { seq: number }).seq
  }
  // biome-ignore lint/suspicious/noExplicitAny: entries are the enclave's own, schema-checked on append
  return toAuditCsv({ entries: entries as any, hashes })
}
