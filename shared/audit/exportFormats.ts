import { canonicalJson } from '../canonical/canonicalJson.js'
import { type AuditCheckpoint, type AuditEntry, CHAIN_ID_REGEX } from './auditEntry.js'
import { AUDIT_CODES } from './auditCodes.js'
import { AuditError } from './AuditError.js'
import { hashAuditEntry } from './hashAuditEntry.js'

/**
 * Audit export formats. JSONL (the verifiable one): one JSON object per line,
 * `{"type":"entry", …entry fields, "hash"}` or `{"type":"checkpoint", …}`,
 * each checkpoint after the entry it covers, so it can be streamed.
 * CSV (for people): flattened columns, lossy, not verifiable.
 */
export type AuditExport = {
  /** The root chain's (issue 15 step 4: every line before the first chain header, and under a `""` header). */
  entries: AuditEntry[]
  /** Hash recorded beside each entry (same index). */
  hashes: (string | undefined)[]
  checkpoints: AuditCheckpoint[]
  /**
   * Issue 15 step 4: the other chains, in the order their first header line appears (present only when the export has
   * one): each chain's entry and checkpoint lines, in file order (two sections of one chain are joined).
   */
  chains?: AuditChainExport[]
}
/** One non-root chain of an export: its id (32 hex) and its lines. */
export type AuditChainExport = { chain: string; entries: AuditEntry[]; hashes: (string | undefined)[]; checkpoints: AuditCheckpoint[] }

export function auditEntryJsonlLine(entry: AuditEntry, hash: string): string {
  return canonicalJson({ ...entry, type: 'entry', hash })
}

export function auditCheckpointJsonlLine(checkpoint: AuditCheckpoint): string {
  return canonicalJson({ ...checkpoint, type: 'checkpoint' })
}

/** Issue 15 step 4: the line before a non-root chain's lines (docs/audit.md "Exports"); `""` switches back to the root chain. */
export function auditChainJsonlLine(chain: string): string {
  return canonicalJson({ chain, type: 'chain' })
}

export type ToAuditJsonlParameters = {
  entries: readonly AuditEntry[]
  hashes?: readonly (string | undefined)[] | undefined
  checkpoints?: readonly AuditCheckpoint[] | undefined
  /** Other chains, each written after a chain header line (issue 15 step 4). */
  chains?: readonly (Omit<ToAuditJsonlParameters, 'chains'> & { chain: string })[] | undefined
}

/** Whole-log JSONL (newline-terminated); hashes are computed where not given. */
export function toAuditJsonl(params: ToAuditJsonlParameters): string {
  const root = chainLines(params)
  return [root, ...(params.chains ?? []).map((c) => `${auditChainJsonlLine(c.chain)}\n${chainLines(c)}`)].join('')
}

function chainLines(params: Omit<ToAuditJsonlParameters, 'chains'>): string {
  const cps = [...(params.checkpoints ?? [])].sort((a, b) => a.seq - b.seq)
  const lines: string[] = []
  let c = 0
  params.entries.forEach((entry, i) => {
    while (c < cps.length && (cps[c] as AuditCheckpoint).seq < entry.seq)
      lines.push(auditCheckpointJsonlLine(cps[c++] as AuditCheckpoint))
    lines.push(auditEntryJsonlLine(entry, params.hashes?.[i] ?? hashAuditEntry(entry)))
  })
  while (c < cps.length) lines.push(auditCheckpointJsonlLine(cps[c++] as AuditCheckpoint))
  return lines.map((l) => `${l}\n`).join('')
}

/**
 * Splits a JSONL export into entries, recorded hashes and checkpoints. Throws
 * AuditError('audit_export_malformed') naming the line for a line that is not
 * a JSON object of a known type; field validity is left to verifyAuditLog so
 * that it can name the sequence number.
 */
export function parseAuditJsonl(text: string): AuditExport {
  const root: AuditExport = { entries: [], hashes: [], checkpoints: [] }
  let out: Omit<AuditExport, 'chains'> = root
  const chains = new Map<string, AuditChainExport>()
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, '')
    if (line.trim() === '') continue
    const bad = (why: string, cause?: unknown) =>
      new AuditError(AUDIT_CODES.exportMalformed, `Malformed audit export line ${n + 1}: ${why}`, {
        details: `line ${n + 1}`,
        cause,
      })
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (cause) {
      throw bad('not JSON', cause)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object')
    const { type, ...rest } = value as Record<string, unknown>
    if (type === 'chain') {
      // Issue 15 step 4: exactly {"chain":"<32 hex>","type":"chain"} (or "" for the root chain): the lines after it are that chain's.
      const { chain, ...other } = rest
      if (typeof chain !== 'string' || (chain !== '' && !CHAIN_ID_REGEX.test(chain)) || Object.keys(other).length > 0) throw bad('not a chain header ({"chain":"<32 hex>","type":"chain"})')
      let c = chains.get(chain)
      if (chain !== '' && c === undefined) chains.set(chain, (c = { chain, entries: [], hashes: [], checkpoints: [] }))
      out = c ?? root
    } else if (type === 'entry') {
      // `mac` is the enclave's private authenticator for replay; auditors ignore it.
      const { hash, mac: _mac, ...entry } = rest
      if (hash !== undefined && typeof hash !== 'string') throw bad('hash is not a string')
      out.entries.push(entry as AuditEntry)
      out.hashes.push(hash)
    } else if (type === 'checkpoint') out.checkpoints.push(rest as AuditCheckpoint)
    else throw bad(`unknown type ${JSON.stringify(type)}`)
  }
  if (chains.size > 0) root.chains = [...chains.values()]
  return root
}

export const AUDIT_CSV_COLUMNS = [
  'seq', 'time', 'event', 'wallet', 'agentId', 'kind', 'chainId', 'asset', 'amount', 'payTo',
  'resourceUrl', 'reason', 'policyVersion', 'policyHash', 'verdict', 'rule', 'code', 'signedHash', 'hash',
] as const
export type AuditCsvRow = Record<(typeof AUDIT_CSV_COLUMNS)[number], string>

/** One flattened row per entry: payTo is the spender / contract for approvals and calls, asset the verifying contract for typed data. */
export function auditCsvRow(entry: AuditEntry, hash: string): AuditCsvRow {
  const a = (entry.action ?? {}) as Record<string, unknown>
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v))
  return {
    seq: String(entry.seq),
    time: new Date(entry.time).toISOString(),
    event: entry.event,
    wallet: str(entry.wallet),
    agentId: str(entry.agentId),
    kind: str(a.kind),
    chainId: str(a.chainId),
    asset: str(a.asset ?? a.verifyingContract),
    amount: str(a.amount ?? a.value),
    payTo: str(a.payTo ?? a.spender ?? a.to),
    resourceUrl: str(entry.resourceUrl),
    reason: str(entry.reason),
    policyVersion: str(entry.policy?.version),
    policyHash: str(entry.policy?.hash),
    verdict: entry.verdict,
    rule: str(entry.rule),
    code: str(entry.code),
    signedHash: str(entry.signedHash),
    hash,
  }
}

/**
 * RFC 4180 CSV with a header row. SECURITY: a value starting with = + - @ TAB
 * CR or ' gets a leading ' so spreadsheets never run agent-supplied text as a
 * formula; parseAuditCsv removes it again.
 */
export function toAuditCsv(params: Omit<ToAuditJsonlParameters, 'checkpoints'>): string {
  const rows = [AUDIT_CSV_COLUMNS.join(',')]
  params.entries.forEach((entry, i) => {
    const row = auditCsvRow(entry, params.hashes?.[i] ?? hashAuditEntry(entry))
    rows.push(AUDIT_CSV_COLUMNS.map((c) => csvField(row[c])).join(','))
  })
  return rows.map((r) => `${r}\r\n`).join('')
}

function csvField(value: string): string {
  const v = /^[=+\-@\t\r']/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}

/** Parses toAuditCsv output back into rows (for tools and the round-trip test). */
export function parseAuditCsv(text: string): AuditCsvRow[] {
  const records = splitCsv(text)
  const header = records.shift()
  if (header?.join(',') !== AUDIT_CSV_COLUMNS.join(','))
    throw new AuditError(AUDIT_CODES.exportMalformed, 'Audit CSV header does not match')
  return records.map((fields, r) => {
    if (fields.length !== AUDIT_CSV_COLUMNS.length)
      throw new AuditError(AUDIT_CODES.exportMalformed, `Audit CSV record ${r + 2} has ${fields.length} fields`)
    const row = {} as AuditCsvRow
    AUDIT_CSV_COLUMNS.forEach((c, i) => {
      const f = fields[i] as string
      row[c] = f.startsWith("'") ? f.slice(1) : f
    })
    return row
  })
}

function splitCsv(text: string): string[][] {
  const records: string[][] = []
  let fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (quoted) {
      if (ch !== '"') field += ch
      else if (text[i + 1] === '"') (field += '"'), i++
      else quoted = false
    } else if (ch === '"') quoted = true
    else if (ch === ',') fields.push(field), (field = '')
    else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      if (ch === '\r') i++
      fields.push(field)
      records.push(fields)
      fields = []
      field = ''
    } else field += ch
  }
  if (quoted) throw new AuditError(AUDIT_CODES.exportMalformed, 'Audit CSV ends inside a quoted field')
  if (field !== '' || fields.length > 0) records.push([...fields, field])
  return records
}
