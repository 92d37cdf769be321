import type { AuditEntry } from '../../shared/audit/auditEntry.js'

/** Splits stored audit entry texts into AuditEntry objects and their recorded hashes (what an export carries). */
export function auditLogOf(texts: string[]): { entries: AuditEntry[]; hashes: string[] } {
  const entries = texts.map((t) => {
    const { hash: _h, mac: _m, ...e } = JSON.parse(t) as AuditEntry & { hash: string; mac?: string }
    return e as AuditEntry
  })
  return { entries, hashes: texts.map((t) => (JSON.parse(t) as { hash: string }).hash) }
}
