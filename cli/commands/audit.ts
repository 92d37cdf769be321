import { randomBytes } from 'node:crypto'
// Auditor CLI: verifies the audit log offline with no trust in the host that served it.
import { constants } from 'node:fs'
import { access, readFile, writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { hostOption, parseHostArg } from '../lib/hostUrl.js'
import { type AuditEntry, type AuditHead, CHAIN_ID_REGEX } from '../../shared/audit/auditEntry.js'
import { AuditError } from '../../shared/audit/AuditError.js'
import { formatAuditEntry } from '../../shared/audit/formatAuditEntry.js'
import { GENESIS_HASH, hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { type ServedAuditEntry, splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import { verifyAuditJsonl, verifyAuditJsonlFile } from '../../shared/audit/verifyAuditJsonl.js'
import { chainStartBreak } from '../../shared/audit/verifyAuditLog.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import type { AuditReceipt } from '../../shared/audit/verifyReceipt.js'
import { parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { loadOwnerAccount } from '../lib/loadOwnerAccount.js'

/** Exit codes: 0 verified, 1 proven broken (or attestation refused), 2 usage or I/O error (nothing proven). */
export type CliResult = { exitCode: 0 | 1 | 2; stdout: string; stderr: string }
const usage = (msg: string): CliResult => ({ exitCode: 2, stdout: '', stderr: `${msg}\n` })

/**
 * How to authenticate audit reads: `token` (the operator's BURSAR_AUDIT_TOKEN,
 * sent as Bearer: the whole log) or `owner` (sign a short-lived AuditRead
 * with the owner key: that owner's wallets only). Neither: no Authorization
 * (a host in open mode).
 */
export type AuditAuthOptions = {
  token?: string | undefined
  owner?: boolean | undefined
  keyFile?: string | undefined
}

/** Lifetime of the read tokens the CLI signs for itself. */
const OWN_TOKEN_TTL_MS = 5 * 60 * 1000

async function authHeaders(opts: AuditAuthOptions & { header?: string[] | undefined; host?: string | undefined }): Promise<Record<string, string> | string> {
  const headers = parseHeaders(opts.header)
  if (headers === null) return "--header must be 'Name: value'"
  if (opts.token && (opts.owner || opts.keyFile)) return 'give --token (operator) or --owner/--key-file (owner key), not both'
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  else if (opts.owner || opts.keyFile) {
    try {
      const account = loadOwnerAccount(opts.keyFile)
      if (!opts.host) return 'an owner read token names the host it is for: give --host'
      // The token names the host it is sent to: another host cannot replay it here (AuditRead.host).
      headers.authorization = `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account, host: opts.host, expiresAt: Date.now() + OWN_TOKEN_TTL_MS })}`
    } catch (err) {
      return `cannot use the owner key: ${(err as Error).message}`
    }
  }
  return headers
}

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
  /** Issue 15 step 2: verify and print this wallet's thread (the export may hold that wallet's entries only). */
  wallet?: string | undefined
  /** With `wallet`: a JSON file of an agent receipt (or an array of them) that must sit in the thread (rt30a). */
  receipt?: string | undefined
  /** With `wallet`: a thread head seen before (WALLETSEQ:0xHASH, e.g. a receipt's walletSeq and entryHash). */
  sinceWalletHead?: string | undefined
  json?: boolean | undefined
} & AuditAuthOptions

type RequestAnswer = {
  requestId: string
  agentId: string
  status: number
  code: string | null
  signed: boolean
  auditSeq: number | null
  decidedAt: number
  fetchedAt: number | null
  fetchCount: number
}

function formatAnswer(a: RequestAnswer): string {
  const what = a.signed ? 'SIGNED' : `refused (${a.code ?? `HTTP ${a.status}`})`
  const fetched =
    a.fetchedAt !== null
      ? `fetched by the agent at ${new Date(a.fetchedAt).toISOString()} (${a.fetchCount}x)`
      : a.signed
        ? 'NEVER FETCHED by the agent: signed but the answer was not delivered (the agent may resend the same request before its deadline)'
        : 'never fetched by the agent'
  return `request ${a.requestId}: ${what} at ${new Date(a.decidedAt).toISOString()} (audit seq ${a.auditSeq ?? '?'}), ${fetched}`
}

/** `bursar audit verify`: loads an export (file or host), the enclave key (hex or attested), and verifies. */
export async function runAuditVerify(opts: AuditVerifyOptions): Promise<CliResult> {
  if (!opts.file === !opts.host) return usage('give exactly one of --file or --host')
  const live = !opts.publicKey && !opts.attestation && !!opts.host && !!opts.root
  if (!live && !opts.publicKey === !opts.attestation) {
    return usage('give --public-key, or --attestation DOC --root PEM, or (with --host) just --root PEM to attest the live enclave')
  }
  if (opts.attestation && !opts.root) return usage('--attestation needs --root (the pinned root certificate, PEM)')
  const sinceHead = opts.sinceHead === undefined ? undefined : parseHead(opts.sinceHead)
  if (sinceHead === null) return usage('--since-head must be SEQ:0xHASH (or 0xHASH)')
  if (opts.wallet !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(opts.wallet)) return usage('--wallet must be an address (0x + 40 hex digits)')
  if (opts.wallet !== undefined && sinceHead !== undefined) return usage('--since-head is a head of the whole log: not with --wallet')
  // rt30a: the attested audit head is a whole-log check too: refused, never silently left out of an OK.
  if (opts.receipt !== undefined && opts.wallet === undefined) return usage('--receipt goes with --wallet')
  if (opts.wallet !== undefined && opts.attestedInputs !== undefined) return usage('--attested-inputs binds a head of the whole log: not with --wallet (verify the whole export against it)')
  const walletHead = opts.sinceWalletHead === undefined ? undefined : /^(\d+):(0x[0-9a-fA-F]{64})$/.exec(opts.sinceWalletHead)
  if (walletHead === null || (walletHead && (opts.wallet === undefined || Number(walletHead[1]) < 1))) return usage('--since-wallet-head must be WALLETSEQ:0xHASH (walletSeq ≥ 1), with --wallet')
  const headers = await authHeaders(opts)
  if (typeof headers === 'string') return usage(headers)

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
  } else if (live) {
    try {
      publicKey = await liveAttestedKey(trimHost(opts.host), opts.root as string, opts.allowDebug)
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'ENOENT' || code === 'EACCES') return usage(`cannot read: ${(err as Error).message}`)
      return { exitCode: 1, stdout: '', stderr: `attestation refused: ${code ?? 'error'}: ${(err as Error).message}\n` }
    }
  } else publicKey = opts.publicKey as string

  let text: string | Buffer | null = null
  try {
    // A file is read in chunks by the verifier (verifyAuditJsonlFile); here only whether it can be opened.
    if (opts.file && opts.wallet) text = await readFile(opts.file, 'utf8')
    else if (opts.file) await access(opts.file, constants.R_OK)
    else if (opts.wallet) text = (await fetchAudit(`${trimHost(opts.host)}/v1/audit/export?format=jsonl&wallet=${opts.wallet}`, headers)).body
    else {
      const res = await fetchAudit(`${trimHost(opts.host)}/v1/audit/export?format=jsonl`, headers)
      // The chain is global: an owner-scoped export has gaps by design and proves nothing either way.
      if (res.scope === 'owner')
        return usage('the host served an owner-scoped export (your wallets only): verifying the chain needs the whole log; use --token (the operator BURSAR_AUDIT_TOKEN) or --file')
      text = res.body
    }
  } catch (err) {
    return usage(`cannot load the export: ${(err as Error).message}`)
  }
  if (opts.wallet !== undefined) {
    let receipts: AuditReceipt[] | undefined
    try {
      if (opts.receipt !== undefined) receipts = [JSON.parse(await readFile(opts.receipt, 'utf8'))].flat() as AuditReceipt[]
    } catch (err) {
      return usage(`cannot read the receipt: ${(err as Error).message}`)
    }
    return verifyWallet(opts.wallet, String(text), publicKey, opts.json, walletHead ? { walletSeq: Number(walletHead[1]), hash: walletHead[2] as string } : undefined, receipts)
  }
  let result: ReturnType<typeof verifyAuditJsonl>
  try {
    // Same verdict as verifyAuditLog({ ...parseAuditJsonl(text), … }), canonical lines hashed as stored.
    result =
      text === null
        ? verifyAuditJsonlFile({ file: opts.file as string, publicKey, sinceHead, expectedHead })
        : verifyAuditJsonl({ jsonl: text, publicKey, sinceHead, expectedHead })
  } catch (err) {
    // The file could be opened but not read (a directory, an I/O error): as when it cannot be opened.
    if (text === null && typeof (err as NodeJS.ErrnoException).code === 'string' && !(err instanceof AuditError))
      return usage(`cannot load the export: ${(err as Error).message}`)
    if (!(err instanceof AuditError)) throw err
    if (err.code === 'audit_bad_public_key') return usage(err.shortMessage)
    const broken = { ok: false, code: err.code, seq: null, message: err.shortMessage }
    return { exitCode: 1, stdout: opts.json ? `${JSON.stringify(broken)}\n` : `BROKEN: ${err.code}: ${err.shortMessage}\n`, stderr: '' }
  }
  if (opts.json) return { exitCode: result.ok ? 0 : 1, stdout: `${JSON.stringify(result)}\n`, stderr: '' }
  if (!result.ok) return { exitCode: 1, stdout: `BROKEN at seq ${result.seq}${inChain(result.chain)}: ${result.code}: ${result.message}\n`, stderr: '' }
  const lines = [`OK: ${result.count} entries, head seq ${result.head.seq} ${result.head.hash}${result.chains ? ' (root chain)' : ''}`]
  if (result.signedHead === null) lines.push('WARNING: no signed checkpoint: nothing in this log is authenticated by the enclave')
  else {
    lines.push(`signed head seq ${result.signedHead.seq} ${result.signedHead.hash} (keep this as --since-head next time)`)
    if (result.signedHead.seq < result.head.seq)
      lines.push(`WARNING: entries ${result.signedHead.seq + 1}..${result.head.seq} are not covered by a checkpoint yet`)
  }
  // Issue 15 step 4: each other chain, verified by its own links and checkpoints; wallet threads checked across them.
  for (const c of result.chains ?? []) {
    lines.push(`chain ${c.chain}: ${c.count} entries, head seq ${c.head.seq} ${c.head.hash}, ${c.signedHead === null ? 'WARNING: no signed checkpoint' : `signed head seq ${c.signedHead.seq}`}`)
    if (c.signedHead !== null && c.signedHead.seq < c.head.seq) lines.push(`WARNING: chain ${c.chain}: entries ${c.signedHead.seq + 1}..${c.head.seq} are not covered by a checkpoint yet`)
  }
  if (result.chains) lines.push(`${result.chains.length + 1} chains; every wallet thread continues across them (no walletSeq in two chains)`)
  return { exitCode: 0, stdout: `${lines.join('\n')}\n`, stderr: '' }
}

/** Issue 15 step 4: names a non-root chain after a seq (nothing for the root chain, so root-only output is unchanged). */
const inChain = (chain: string | undefined) => (chain ? ` of chain ${chain}` : '')

/** `bursar audit verify --wallet`: one wallet's thread (docs/audit.md "Wallet threads"), from a one-wallet or a whole export. */
function verifyWallet(wallet: string, text: string, publicKey: Uint8Array | string, json: boolean | undefined, sinceHead: { walletSeq: number; hash: string } | undefined, receipts?: AuditReceipt[]): CliResult {
  let result: ReturnType<typeof verifyWalletThread>
  try {
    result = verifyWalletThread({ wallet, ...parseAuditJsonl(text), publicKey, sinceHead, receipts })
  } catch (err) {
    if (!(err instanceof AuditError)) throw err
    if (err.code === 'audit_bad_public_key') return usage(err.shortMessage)
    const broken = { ok: false, code: err.code, seq: null, message: err.shortMessage }
    return { exitCode: 1, stdout: json ? `${JSON.stringify(broken)}\n` : `BROKEN: ${err.code}: ${err.shortMessage}\n`, stderr: '' }
  }
  if (json) return { exitCode: result.ok ? 0 : 1, stdout: `${JSON.stringify(result)}\n`, stderr: '' }
  if (!result.ok) return { exitCode: 1, stdout: `BROKEN at seq ${result.seq}${inChain(result.chain)}: ${result.code}: ${result.message}\n`, stderr: '' }
  const { thread, signedThrough } = result
  const last = thread[thread.length - 1]
  const lines = [
    last ? `OK: wallet ${wallet}: thread of ${thread.length} entries (walletSeq 1..${last.walletSeq}), last at seq ${last.seq} ${last.hash}` : `OK: wallet ${wallet}: no threaded entries`,
    result.complete ? 'the whole log was given: global chain, checkpoints and every thread verified' : receipts || sinceHead ? 'one-wallet export: verified by walletPrev links; entries cut after the newest receipt or head given cannot be seen here' : 'one-wallet export: verified by walletPrev links; entries cut from its end cannot be seen here (give a receipt: --receipt FILE or --since-wallet-head WALLETSEQ:HASH)',
  ]
  if (receipts) lines.push(`${receipts.length} receipts found in the thread (each entry at its seq, with its hash)`)
  if (sinceHead) lines.push(`contains the head seen before (walletSeq ${sinceHead.walletSeq})`)
  if (result.unthreaded > 0) lines.push(`${result.unthreaded} earlier entries of this wallet predate threads (no walletSeq)${result.complete ? '' : ': not linked by this export'}`)
  if (signedThrough === null) lines.push('WARNING: no signed checkpoint covers this thread: nothing here is authenticated by the enclave')
  else {
    lines.push(`signed through walletSeq ${signedThrough.walletSeq} (seq ${signedThrough.seq}${inChain(signedThrough.chain)})`)
    if (last && signedThrough.walletSeq < last.walletSeq) lines.push(`WARNING: walletSeq ${signedThrough.walletSeq + 1}..${last.walletSeq} are not covered by a checkpoint`)
  }
  // A time past what a Date holds (an unsigned entry is the host's to write) prints raw: never a throw before the verdict.
  const when = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `time ${ms}`)
  for (const t of thread) lines.push(`  walletSeq ${t.walletSeq}  seq ${t.seq}${inChain(t.chain)}  ${when(t.time)}  ${t.event}  ${t.hash}`)
  return { exitCode: 0, stdout: `${lines.join('\n')}\n`, stderr: '' }
}

/** SECURITY: a fresh document for our own nonce, verified live against the pinned root; its public_key is the receipt key. */
async function liveAttestedKey(host: string, rootPath: string, allowDebug: boolean | undefined): Promise<Uint8Array> {
  const nonce = randomBytes(32)
  const res = await fetch(`${host}/v1/attestation?nonce=${nonce.toString('hex')}`)
  if (!res.ok) throw new AuditError('audit_bad_public_key', `GET /v1/attestation answered HTTP ${res.status}`)
  const body = (await res.json()) as { document?: string }
  const doc = verifyAttestation(new Uint8Array(Buffer.from(String(body.document ?? ''), 'base64')), {
    root: await readFile(rootPath, 'utf8'),
    maxAgeMs: 5 * 60_000,
    expectedNonce: nonce,
    allowDebug,
  })
  if (doc.publicKey === null) throw new AuditError('audit_bad_public_key', 'The attestation document carries no public_key')
  return doc.publicKey
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

export type AuditExportOptions = {
  host: string
  format?: 'jsonl' | 'csv' | undefined
  out?: string | undefined
  header?: string[] | undefined
  /** One wallet's entries (its thread) and the checkpoints at their seqs: verify with `audit verify --wallet`. */
  wallet?: string | undefined
} & AuditAuthOptions

/** `bursar audit export`: downloads the host's export as is (verify it with `audit verify --file`). */
export async function runAuditExport(opts: AuditExportOptions): Promise<CliResult> {
  const headers = await authHeaders(opts)
  if (typeof headers === 'string') return usage(headers)
  const format = opts.format ?? 'jsonl'
  if (format !== 'jsonl' && format !== 'csv') return usage('--format must be jsonl or csv')
  if (opts.wallet !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(opts.wallet)) return usage('--wallet must be an address (0x + 40 hex digits)')
  try {
    const { body, scope } = await fetchAudit(`${trimHost(opts.host)}/v1/audit/export?format=${format}${opts.wallet ? `&wallet=${opts.wallet}` : ''}`, headers)
    const note = scope === 'owner' ? 'note: owner-scoped export (your wallets only, not a verifiable chain)\n' : scope === 'wallet' ? `note: one wallet's thread: verify it with \`bursar audit verify --wallet ${opts.wallet}\`\n` : ''
    if (!opts.out) return { exitCode: 0, stdout: body, stderr: note }
    await writeFile(opts.out, body)
    return { exitCode: 0, stdout: '', stderr: `${note}wrote ${Buffer.byteLength(body)} bytes to ${opts.out}\n` }
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
} & AuditAuthOptions

/**
 * `bursar audit tail`: polls /v1/audit/entries?after=SEQ and prints new
 * entries, checking each links to the one before (an alarm line if not).
 * Runs until the signal aborts.
 */
export async function runAuditTail(opts: AuditTailOptions): Promise<CliResult> {
  const first = await authHeaders(opts)
  if (typeof first === 'string') return usage(first)
  let headers = first
  let signedAt = Date.now()
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`))
  let after = opts.after ?? -1
  const start = after
  // chains41: each chain's last entry printed (the chain check's predecessor; '' the root), by the host's label: a
  // cluster's chains share seqs, and a page holds each chain's entries in the seq window. `after` is the cursor, which
  // may run ahead of them (audit40). Without a starting point, the root's first entry must be genesis; after --after
  // SEQ the first is trusted as is.
  const chains = new Map<string, { lastSeq: number; prevHash: string | undefined }>([['', { lastSeq: after, prevHash: after === -1 ? GENESIS_HASH : undefined }]])
  /** rt42: the chains whose entries after `start` were all asked for (any scope). */
  const seen = new Set([''])
  let broken = false
  let scope: 'all' | 'owner' | undefined
  const check = (entry: AuditEntry, recorded: string | undefined, chain: string) => {
    const hash = hashAuditEntry(entry)
    if (chain !== '' && !CHAIN_ID_REGEX.test(chain)) {
      broken = true
      write(`!! BAD CHAIN LABEL at seq ${entry.seq}: ${JSON.stringify(chain)} is not a chain id`)
    } else if (scope === 'owner') {
      // Owner scope skips other wallets' entries: only each entry's own recorded hash can be checked.
      if (recorded !== undefined && hash !== recorded) {
        broken = true
        write(`!! ENTRY MODIFIED at seq ${entry.seq}${chain ? ` of chain ${chain}` : ''}: does not hash to its recorded hash`)
      }
    } else {
      let c = chains.get(chain)
      if (c === undefined) {
        // A chain first seen here, its entries after the start read (rt42: backfill): from the beginning its first
        // entry is its seq 0 (chain_started, from genesis); after --after SEQ the first is SEQ + 1, trusted as is.
        c = start === -1 ? { lastSeq: -1, prevHash: GENESIS_HASH } : { lastSeq: start, prevHash: undefined }
        chains.set(chain, c)
        if (start !== -1) write(`.. chain ${chain} first seen at seq ${entry.seq} (its entries up to --after ${start} are not checked)`)
      }
      if (entry.seq !== c.lastSeq + 1 || (c.prevHash !== undefined && entry.prevHash !== c.prevHash)) {
        broken = true
        write(`!! CHAIN BROKEN at seq ${entry.seq}${chain ? ` of chain ${chain}` : ''}: does not follow seq ${c.lastSeq}${c.prevHash ? ` (${c.prevHash})` : ''}`)
      }
      const wrong = chainStartBreak(entry, chain) // a chain's seq 0, and only it, is chain_started naming that chain
      if (wrong !== undefined) {
        broken = true
        write(`!! CHAIN MISMATCH at seq ${entry.seq}${chain ? ` of chain ${chain}` : ''}: ${wrong.message}`)
      }
      c.lastSeq = entry.seq
      c.prevHash = hash
    }
    write(formatAuditEntry(entry, chain))
  }
  /**
   * rt42: the chains share one seq cursor, so a chain born after the cursor passed its low seqs comes into view at a
   * later seq: its entries below were never served to this tail (chains41 trusted it from there, unchecked). Its
   * entries after the start and below `below` are read now (the pages from the start, that chain's only), in order.
   */
  const backfill = async (chain: string, below: number) => {
    for (let at = start; ; ) {
      const page = JSON.parse((await fetchAudit(`${trimHost(opts.host)}/v1/audit/entries?after=${at}&limit=1000`, headers, opts.signal)).body) as { entries: ServedAuditEntry[]; next: number | null }
      const served = splitServedEntries(page.entries)
      for (let i = 0; i < served.entries.length; i++)
        if ((served.chains[i] ?? '') === chain && served.entries[i]!.seq < below) check(served.entries[i] as AuditEntry, served.hashes[i], chain)
      if (page.next === null || page.next >= below - 1) return
      if (!(page.next > at)) throw new Error(`the host's cursor did not move (next ${page.next} after ${at})`)
      at = page.next
    }
  }
  while (!opts.signal?.aborted) {
    let page: { entries: ServedAuditEntry[]; next: number | null; scope?: 'all' | 'owner'; scannedThrough?: number }
    if ((opts.owner || opts.keyFile) && Date.now() - signedAt > OWN_TOKEN_TTL_MS / 2) {
      const fresh = await authHeaders(opts) // the owner read token is short-lived: sign a new one as it ages
      if (typeof fresh === 'string') return usage(fresh)
      headers = fresh
      signedAt = Date.now()
    }
    try {
      page = JSON.parse((await fetchAudit(`${trimHost(opts.host)}/v1/audit/entries?after=${after}`, headers, opts.signal)).body)
      scope = page.scope
      // `hash` is the host's record, `mac` the enclave's private replay authenticator, `auditChain` the host's label of
      // the entry's chain: none is part of the entry an auditor hashes.
      const served = splitServedEntries(page.entries)
      for (let i = 0; i < served.entries.length; i++) {
        const entry = served.entries[i] as AuditEntry
        const chain = served.chains[i] ?? ''
        if (!seen.has(chain) && CHAIN_ID_REGEX.test(chain)) {
          seen.add(chain)
          if (entry.seq > start + 1) await backfill(chain, entry.seq)
        }
        check(entry, served.hashes[i], chain)
        after = Math.max(after, entry.seq)
      }
    } catch (err) {
      if (opts.signal?.aborted) break
      return usage(`tail failed: ${(err as Error).message}`)
    }
    // audit40: a page the host's row budget ended (short, even empty) continues at `next`; before, an empty one was
    // fetched again from the same cursor, forever (an owner's sparse entries, or a hole wider than the budget).
    if (page.next !== null && page.next > after) {
      if (page.entries.length === 0) write(`.. read through seq ${page.scannedThrough ?? page.next}: no entries there, continuing`)
      after = page.next
      continue
    }
    if (page.next === null || page.entries.length === 0) await sleep(opts.intervalMs ?? 2000, opts.signal)
  }
  return { exitCode: broken ? 1 : 0, stdout: '', stderr: '' }
}

export type AuditQueryOptions = {
  host: string
  wallet?: string | undefined
  agent?: string | undefined
  verdict?: string | undefined
  /** ISO 8601 or ms since the epoch. */
  since?: string | undefined
  until?: string | undefined
  /** Most entries to print (default 1000). */
  limit?: number | undefined
  header?: string[] | undefined
  json?: boolean | undefined
  /** One agent request id (its nonce): its decision and whether the agent fetched the answer. */
  request?: string | undefined
} & AuditAuthOptions

/**
 * `bursar audit query`: the owner's own decisions (a read token signed with
 * the owner key, unless --token gives the operator's), filtered, all pages.
 */
export async function runAuditQuery(opts: AuditQueryOptions): Promise<CliResult> {
  const auth = opts.token ? opts : { ...opts, owner: true }
  const headers = await authHeaders(auth)
  if (typeof headers === 'string') return usage(headers)
  const max = opts.limit ?? 1000
  const params = new URLSearchParams()
  if (opts.request !== undefined && !/^[0-9a-f]{32}$/.test(opts.request)) return usage('--request must be a request id (32 hex digits, the request nonce)')
  for (const [k, v] of [['wallet', opts.wallet], ['agent', opts.agent], ['verdict', opts.verdict], ['from', opts.since], ['to', opts.until], ['request', opts.request]] as const) {
    if (v === undefined) continue
    if ((k === 'from' || k === 'to') && !/^\d+$/.test(v) && Number.isNaN(Date.parse(v))) return usage(`--${k === 'from' ? 'since' : 'until'} must be ISO 8601 or ms`)
    params.set(k, k === 'from' || k === 'to' ? String(/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : v)
  }
  const entries: (AuditEntry & { hash?: string })[] = []
  const checkpoints: unknown[] = []
  const answers: RequestAnswer[] = []
  let scope: string | undefined
  try {
    for (let after = -1; entries.length < max; ) {
      params.set('after', String(after))
      params.set('limit', String(Math.min(1000, max - entries.length)))
      const page = JSON.parse((await fetchAudit(`${trimHost(opts.host)}/v1/audit/entries?${params}`, headers)).body) as {
        scope?: string
        entries: (AuditEntry & { hash?: string })[]
        checkpoints: unknown[]
        next: number | null
        answers?: RequestAnswer[]
      }
      scope = page.scope
      if (page.answers) answers.push(...page.answers)
      entries.push(...page.entries)
      checkpoints.push(...page.checkpoints)
      if (page.next === null) break
      // rt41: a host whose cursor does not move would be read again and again, forever.
      if (!(page.next > after)) throw new Error(`the host's cursor did not move (next ${page.next} after ${after})`)
      after = page.next
    }
  } catch (err) {
    return usage(`query failed: ${(err as Error).message}`)
  }
  if (opts.json) return { exitCode: 0, stdout: `${JSON.stringify({ scope, entries, checkpoints, ...(opts.request ? { answers } : {}) })}\n`, stderr: '' }
  const served = splitServedEntries(entries)
  const lines = served.entries.map((e, i) => formatAuditEntry(e, served.chains[i]))
  if (opts.request) {
    if (entries.length === 0) lines.push(`request ${opts.request}: no decision recorded (never reached the enclave's writer, or not one of your wallets)`)
    for (const a of answers) lines.push(formatAnswer(a))
    if (entries.length > 0 && answers.length === 0) lines.push(`request ${opts.request}: no stored answer on this host (decided before answers were stored, or the host lost it)`)
  }
  return { exitCode: 0, stdout: lines.length ? `${lines.join('\n')}\n` : '', stderr: `${entries.length} entries (scope: ${scope ?? 'unknown'})\n` }
}

/** `bursar audit token`: signs an owner read token (EIP-712 AuditRead) for curl or the dashboard. */
export async function runAuditToken(opts: { keyFile?: string | undefined; ttlMinutes?: number | undefined; host: string }): Promise<CliResult> {
  const ttl = opts.ttlMinutes ?? 60
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 24 * 60) return usage('--ttl must be 1..1440 minutes')
  try {
    const account = loadOwnerAccount(opts.keyFile)
    const expiresAt = Date.now() + ttl * 60_000
    const token = await signAuditReadToken({ account, host: opts.host, expiresAt })
    return {
      exitCode: 0,
      stdout: `${token}\n`,
      stderr: `owner ${account.address}, for ${new URL(opts.host).origin} only, expires ${new Date(expiresAt).toISOString()}; send it as: Authorization: ${AUDIT_READ_SCHEME} <token>\n`,
    }
  } catch (err) {
    return usage(`cannot sign: ${(err as Error).message}`)
  }
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
    .addOption(new Option('--host <url>', 'fetch <url>/v1/audit/export?format=jsonl').argParser(parseHostArg))
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .option('--public-key <hex>', 'enclave receipt key: Ed25519 raw or SPKI DER, hex')
    .option('--attestation <doc>', 'attestation document (CBOR or base64): take the key from its public_key')
    .option('--root <pem>', 'pinned root certificate for --attestation')
    .option('--attested-inputs <json>', 'commitment inputs matching the document user_data: require its audit head')
    .option('--allow-debug', 'accept a debug-mode (simulation) attestation')
    .option('--since-head <seq:hash>', 'a head you saw before: refuse a rolled-back log')
    .option('--wallet <address>', "verify and print one wallet's thread (with --host: fetch that wallet's export only)")
    .option('--receipt <file>', "with --wallet: an agent receipt (JSON, or an array) whose entry must be in the thread")
    .option('--since-wallet-head <walletSeq:hash>', "with --wallet: a thread head you saw before (a receipt's walletSeq and entryHash): refuse a cut or rewritten thread")
    .option('--json', 'machine-readable result')
    .option('--token <token>', 'operator/auditor token (BURSAR_AUDIT_TOKEN on the host), sent as Bearer', process.env.BURSAR_AUDIT_TOKEN)
    .option('--owner', 'sign a read token with the owner key (works only where the host serves owners the whole log)')
    .option('--key-file <file>', 'owner key file (implies --owner)')
    .action(async (o) => out(await runAuditVerify(o)))
  audit
    .command('export')
    .description('download the audit export')
    .addOption(hostOption())
    .addOption(new Option('--format <format>', 'export format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--wallet <address>', "one wallet's thread only (verify with audit verify --wallet)")
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .option('--token <token>', 'operator/auditor token (whole log), sent as Bearer', process.env.BURSAR_AUDIT_TOKEN)
    .option('--owner', 'sign a read token with the owner key (your wallets only)')
    .option('--key-file <file>', 'owner key file (implies --owner; default BURSAR_OWNER_KEY or ~/.bursar/owner.key)')
    .action(async (o) => out(await runAuditExport(o)))
  audit
    .command('tail')
    .description('follow new audit entries until Ctrl-C')
    .addOption(hostOption())
    .option('--interval <ms>', 'poll interval', (v) => Number.parseInt(v, 10), 2000)
    .option('--after <seq>', 'start after this seq', (v) => Number.parseInt(v, 10))
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .option('--token <token>', 'operator/auditor token (whole log), sent as Bearer', process.env.BURSAR_AUDIT_TOKEN)
    .option('--owner', 'sign read tokens with the owner key (your wallets only)')
    .option('--key-file <file>', 'owner key file (implies --owner)')
    .action(async (o) => {
      const controller = new AbortController()
      const stop = () => controller.abort()
      process.once('SIGINT', stop)
      out(await runAuditTail({ ...o, intervalMs: o.interval, signal: controller.signal }))
      process.off('SIGINT', stop)
    })
  audit
    .command('query')
    .description("your wallets' decisions (owner key), filtered; --token for the operator's full view")
    .addOption(hostOption())
    .option('--wallet <address>', 'one wallet')
    .option('--agent <agentId>', 'one agent')
    .addOption(new Option('--verdict <verdict>', 'one verdict').choices(['allow', 'deny', 'pending', 'info']))
    .option('--since <time>', 'ISO 8601 or ms: entries at or after')
    .option('--until <time>', 'ISO 8601 or ms: entries before')
    .option('--limit <n>', 'most entries to print', (v) => Number.parseInt(v, 10), 1000)
    .option('--request <id>', 'one agent request id (RequestOutcomeUnknownError.requestId): its decision and whether the agent fetched it')
    .option('--key-file <file>', 'owner key file (default BURSAR_OWNER_KEY or ~/.bursar/owner.key)')
    .option('--token <token>', 'operator/auditor token instead of the owner key')
    .option('--header <k: v>', 'extra request header (repeatable)', collect)
    .option('--json', 'print JSON {scope, entries, checkpoints}')
    .action(async (o) => out(await runAuditQuery(o)))
  audit
    .command('token')
    .description('sign an owner read token for one host (Authorization: Bursar-Owner <token>): wallet views, audit, webhook setting')
    .addOption(hostOption('the bursar host the token is for (no other host accepts it)'))
    .option('--key-file <file>', 'owner key file (default BURSAR_OWNER_KEY or ~/.bursar/owner.key)')
    .option('--ttl <minutes>', 'lifetime, 1..1440', (v) => Number.parseInt(v, 10), 60)
    .action(async (o) => out(await runAuditToken({ keyFile: o.keyFile, ttlMinutes: o.ttl, host: o.host })))
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

async function fetchAudit(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ body: string; scope: string | null }> {
  const res = await fetch(url, { headers, signal })
  const body = await res.text()
  if (!res.ok) {
    const hint = res.status === 401 ? ' (pass --token <BURSAR_AUDIT_TOKEN> or --owner to sign a read token with your owner key)' : ''
    throw new Error(`${url} answered HTTP ${res.status}: ${body.slice(0, 300)}${hint}`)
  }
  return { body, scope: res.headers.get('x-bursar-audit-scope') }
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
