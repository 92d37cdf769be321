// Auditor CLI: verifies the audit log offline with no trust in the host that served it.
import { readFile, writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import type { AuditEntry, AuditHead } from '../../shared/audit/auditEntry.js'
import { AuditError } from '../../shared/audit/AuditError.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { formatAuditEntry } from '../../shared/audit/formatAuditEntry.js'
import { GENESIS_HASH, hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'

/** Exit codes: 0 verified, 1 proven broken (or attestation refused), 2 usage or I/O error (nothing proven). */
export type CliResult = { exitCode: 0 | 1 | 2; stdout: string; stderr: string }
const usage = (msg: string): CliResult => ({ exitCode: 2, stdout: '', stderr: `${msg}\n` })

export type AuditVerifyOptions = {
  file?: string | undefined
  host?: string | undefined
  header?: string[] | undefined
  publicKey?: string | undefined
  attestation?: string | undefined
  root?: string | undefined
  /** JSON file of the attestation commitment inputs (shared/attestation/commitment.ts): binds the attested audit head. */
  attestedInputs?: string | undefined
  allowDebug?: boolean | undefined
  sinceHead?: string | undefined
  json?: boolean | undefined
}

/** `bursar audit verify`: loads an export (file or host), the enclave key (hex or attested), and verifies. */
export async function runAuditVerify(opts: AuditVerifyOptions): Promise<CliResult> {
  if (!opts.file === !opts.host) return usage('give exactly one of --file or --host')
  if (!opts.publicKey === !opts.attestation) return usage('give exactly one of --public-key or --attestation')
  if (opts.attestation && !opts.root) return usage('--attestation needs --root (the pinned root certificate, PEM)')
  const sinceHead = opts.sinceHead === undefined ? undefined : parseHead(opts.sinceHead)
  if (sinceHead === null) return usage('--since-head must be SEQ:0xHASH (or 0xHASH)')
  const headers = parseHeaders(opts.header)
  if (headers === null) return usage("--header must be 'Name: value'")

  let publicKey: Uint8Array | string
  let expectedHead: AuditHead | undefined
  if (opts.attestation) {
    try {
      const attested = await attestedKey(opts.attestation, opts.root as string, opts.attestedInputs, opts.allowDebug)
      publicKey = attested.publicKey
      expectedHead = attested.auditHead
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'ENOENT' || code === 'EACCES') return usage(`cannot read: ${(err as Error).message}`)
      return { exitCode: 1, stdout: '', stderr: `attestation refused: ${code ?? 'error'}: ${(err as Error).message}\n` }
    }
  } else publicKey = opts.publicKey as string

  let text: string
  try {
    text = opts.file ? await readFile(opts.file, 'utf8') : await fetchText(`${trimHost(opts.host)}/v1/audit/export?format=jsonl`, headers)
  } catch (err) {
    return usage(`cannot load the export: ${(err as Error).message}`)
  }
  let result: ReturnType<typeof verifyAuditLog>
  try {
    result = verifyAuditLog({ ...parseAuditJsonl(text), publicKey, sinceHead, expectedHead })
  } catch (err) {
    if (!(err instanceof AuditError)) throw err
    if (err.code === 'audit_bad_public_key') return usage(err.shortMessage)
    const broken = { ok: false, code: err.code, seq: null, message: err.shortMessage }
    return { exitCode: 1, stdout: opts.json ? `${JSON.stringify(broken)}\n` : `BROKEN: ${err.code}: ${err.shortMessage}\n`, stderr: '' }
  }
  if (opts.json) return { exitCode: result.ok ? 0 : 1, stdout: `${JSON.stringify(result)}\n`, stderr: '' }
  if (!result.ok) return { exitCode: 1, stdout: `BROKEN at seq ${result.seq}: ${result.code}: ${result.message}\n`, stderr: '' }
  const lines = [`OK: ${result.count} entries, head seq ${result.head.seq} ${result.head.hash}`]
  if (result.signedHead === null) lines.push('WARNING: no signed checkpoint: nothing in this log is authenticated by the enclave')
  else {
    lines.push(`signed head seq ${result.signedHead.seq} ${result.signedHead.hash} (keep this as --since-head next time)`)
    if (result.signedHead.seq < result.head.seq)
      lines.push(`WARNING: entries ${result.signedHead.seq + 1}..${result.head.seq} are not covered by a checkpoint yet`)
  }
  return { exitCode: 0, stdout: `${lines.join('\n')}\n`, stderr: '' }
}

/** SECURITY: the receipt key is taken only from a document that verifies against the pinned root. */
async function attestedKey(docPath: string, rootPath: string, inputsPath: string | undefined, allowDebug: boolean | undefined) {
  const raw = await readFile(docPath)
  const text = raw.toString('latin1').trim()
  const bytes = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : raw
  const doc = verifyAttestation(new Uint8Array(bytes), { root: await readFile(rootPath, 'utf8'), at: 'document', allowDebug })
  if (doc.publicKey === null) throw new AuditError('audit_bad_public_key', 'The attestation document carries no public_key')
  let auditHead: AuditHead | undefined
  if (inputsPath) {
    const inputs = JSON.parse(await readFile(inputsPath, 'utf8'))
    const userData = computeAttestationUserData(inputs)
    if (doc.userData === null || !Buffer.from(doc.userData).equals(Buffer.from(userData)))
      throw new AuditError('audit_head_mismatch', 'The commitment inputs do not match the document user_data')
    auditHead = inputs.auditHead
  }
  return { publicKey: doc.publicKey, auditHead }
}

export type AuditExportOptions = { host: string; format?: 'jsonl' | 'csv' | undefined; out?: string | undefined; header?: string[] | undefined }

/** `bursar audit export`: downloads the host's export as is (verify it with `audit verify --file`). */
export async function runAuditExport(opts: AuditExportOptions): Promise<CliResult> {
  const headers = parseHeaders(opts.header)
  if (headers === null) return usage("--header must be 'Name: value'")
  const format = opts.format ?? 'jsonl'
  if (format !== 'jsonl' && format !== 'csv') return usage('--format must be jsonl or csv')
  try {
    const body = await fetchText(`${trimHost(opts.host)}/v1/audit/export?format=${format}`, headers)
    if (!opts.out) return { exitCode: 0, stdout: body, stderr: '' }
    await writeFile(opts.out, body)
    return { exitCode: 0, stdout: '', stderr: `wrote ${Buffer.byteLength(body)} bytes to ${opts.out}\n` }
  } catch (err) {
    return usage(`export failed: ${(err as Error).message}`)
  }
}

export type AuditTailOptions = {
  host: string
  intervalMs?: number | undefined
  header?: string[] | undefined
  /** Start after this seq (default: from the beginning). */
  after?: number | undefined
  signal?: AbortSignal | undefined
  write?: ((line: string) => void) | undefined
}

/**
 * `bursar audit tail`: polls /v1/audit/entries?after=SEQ and prints new
 * entries, checking each links to the one before (an alarm line if not).
 * Runs until the signal aborts.
 */
export async function runAuditTail(opts: AuditTailOptions): Promise<CliResult> {
  const headers = parseHeaders(opts.header)
  if (headers === null) return usage("--header must be 'Name: value'")
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`))
  let after = opts.after ?? -1
  // Without a starting point, the first entry must be genesis; after --after SEQ the first is trusted as is.
  let prevHash: string | undefined = after === -1 ? GENESIS_HASH : undefined
  let broken = false
  while (!opts.signal?.aborted) {
    let page: { entries: (AuditEntry & { hash?: string })[]; next: number | null }
    try {
      page = JSON.parse(await fetchText(`${trimHost(opts.host)}/v1/audit/entries?after=${after}`, headers, opts.signal))
    } catch (err) {
      if (opts.signal?.aborted) break
      return usage(`tail failed: ${(err as Error).message}`)
    }
    for (const raw of page.entries) {
      const { hash: _recorded, type: _type, ...entry } = raw as AuditEntry & { hash?: string; type?: string }
      if (entry.seq !== after + 1 || (prevHash !== undefined && entry.prevHash !== prevHash)) {
        broken = true
        write(`!! CHAIN BROKEN at seq ${entry.seq}: does not follow seq ${after}${prevHash ? ` (${prevHash})` : ''}`)
      }
      write(formatAuditEntry(entry))
      prevHash = hashAuditEntry(entry)
      after = entry.seq
    }
    if (page.next === null || page.entries.length === 0) await sleep(opts.intervalMs ?? 2000, opts.signal)
  }
  return { exitCode: broken ? 1 : 0, stdout: '', stderr: '' }
}

export function auditCommand(): Command {
  const audit = new Command('audit').description('verify, export and follow the enclave audit log')
  const out = (r: CliResult) => {
    if (r.stdout) process.stdout.write(r.stdout)
    if (r.stderr) process.stderr.write(r.stderr)
    process.exitCode = r.exitCode
  }
  const collect = (v: string, prev: string[] = []) => [...prev, v]
  audit
    .command('verify')
    .description('verify an audit export offline (exit 0 ok, 1 broken, 2 usage/IO)')
    .option('--file <export>', 'JSONL export file')
    .option('--host <url>', 'fetch <url>/v1/audit/export?format=jsonl')
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .option('--public-key <hex>', 'enclave receipt key: Ed25519 raw or SPKI DER, hex')
    .option('--attestation <doc>', 'attestation document (CBOR or base64): take the key from its public_key')
    .option('--root <pem>', 'pinned root certificate for --attestation')
    .option('--attested-inputs <json>', 'commitment inputs matching the document user_data: require its audit head')
    .option('--allow-debug', 'accept a debug-mode (simulation) attestation')
    .option('--since-head <seq:hash>', 'a head you saw before: refuse a rolled-back log')
    .option('--json', 'machine-readable result')
    .action(async (o) => out(await runAuditVerify(o)))
  audit
    .command('export')
    .description('download the audit export')
    .requiredOption('--host <url>', 'host base URL')
    .addOption(new Option('--format <format>', 'export format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .action(async (o) => out(await runAuditExport(o)))
  audit
    .command('tail')
    .description('follow new audit entries until Ctrl-C')
    .requiredOption('--host <url>', 'host base URL')
    .option('--interval <ms>', 'poll interval', (v) => Number.parseInt(v, 10), 2000)
    .option('--after <seq>', 'start after this seq', (v) => Number.parseInt(v, 10))
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .action(async (o) => {
      const controller = new AbortController()
      const stop = () => controller.abort()
      process.once('SIGINT', stop)
      out(await runAuditTail({ ...o, intervalMs: o.interval, signal: controller.signal }))
      process.off('SIGINT', stop)
    })
  return audit
}

function parseHead(s: string): { seq?: number; hash: string } | null {
  const m = /^(?:(\d+):)?(0x[0-9a-fA-F]{64})$/.exec(s.trim())
  if (!m) return null
  return m[1] === undefined ? { hash: (m[2] as string).toLowerCase() } : { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() }
}

function parseHeaders(list: string[] | undefined): Record<string, string> | null {
  const headers: Record<string, string> = {}
  for (const h of list ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) return null
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
  }
  return headers
}

const trimHost = (host: string | undefined) => (host ?? '').replace(/\/+$/, '')

async function fetchText(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url, { headers, signal })
  const body = await res.text()
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}: ${body.slice(0, 200)}`)
  return body
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
