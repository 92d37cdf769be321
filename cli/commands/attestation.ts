// Auditor CLI: verifies Nitro attestation documents (a file, or fetched live from a host) with no trust in the host.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Command, CommanderError } from 'commander'
import { hostOption } from '../lib/hostUrl.js'
import { z } from 'zod'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/awsNitroRootG1.js'
import { AttestationUserDataInputsSchema, computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { type VerifiedAttestation, type VerifyAttestationOptions, verifyAttestation } from '../../shared/attestation/verifyAttestation.js'

/** Exit codes: 0 verified, 1 refused (malformed included), 2 usage error or unreadable input (nothing proven). */
export type CliResult = { exitCode: 0 | 1 | 2; stdout: string; stderr: string }

export type AttestationVerifyOptions = {
  file: string
  root: string
  /** Unix seconds, or 'document' for the document's own time; omitted = now (live). */
  at?: string | undefined
  allowDebug?: boolean | undefined
  /** Repeated 'N=HEX'. */
  pcr?: string[] | undefined
  nonce?: string | undefined
  userData?: string | undefined
  /** Seconds; live mode defaults to 300. */
  maxAge?: string | undefined
  json?: boolean | undefined
}

export type AttestationFetchOptions = {
  host: string
  /** PEM path; default: the embedded AWS Nitro Root-G1. */
  root?: string | undefined
  pcr?: string[] | undefined
  allowDebug?: boolean | undefined
  json?: boolean | undefined
  /** Injected for tests; default globalThis.fetch. */
  fetch?: typeof fetch | undefined
}

const LIVE_MAX_AGE_S = 300
const HEX = /^(0x)?([0-9a-fA-F]{2})*$/
const usage = (msg: string): CliResult => ({ exitCode: 2, stdout: '', stderr: `usage error: ${msg}\n` })

/** What `GET /v1/attestation?nonce=` returns (host route, enclave-produced fields). */
export const AttestationResponseSchema = z.object({
  document: z.string().min(1),
  userDataInputs: AttestationUserDataInputsSchema,
  signerPublicKey: z.string().regex(/^(0x)?[0-9a-fA-F]+$/),
})

/** `bursar attestation verify FILE --root PEM …`: verifies a saved document (raw CBOR or base64). */
export async function runAttestationVerify(opts: AttestationVerifyOptions): Promise<CliResult> {
  const pcrs = parsePcrs(opts.pcr)
  if (typeof pcrs === 'string') return usage(pcrs)
  for (const [name, value] of [['--nonce', opts.nonce], ['--user-data', opts.userData]] as const) {
    if (value !== undefined && !HEX.test(value)) return usage(`${name} must be hex`)
  }
  let at: number | 'document' | undefined
  if (opts.at !== undefined) {
    if (opts.at === 'document') at = 'document'
    else if (/^\d+$/.test(opts.at)) at = Number(opts.at) * 1000
    else return usage('--at must be unix seconds or "document"')
  }
  if (opts.maxAge !== undefined && !/^\d+$/.test(opts.maxAge)) return usage('--max-age must be whole seconds')
  const maxAgeS = opts.maxAge !== undefined ? Number(opts.maxAge) : at === undefined ? LIVE_MAX_AGE_S : undefined
  let bytes: Uint8Array
  let root: string
  try {
    bytes = documentBytes(await readFile(opts.file))
    root = await readFile(opts.root, 'utf8')
  } catch (err) {
    return usage(`cannot read: ${(err as Error).message}`)
  }
  return verifyAndReport(bytes, {
    root,
    at,
    maxAgeMs: maxAgeS === undefined ? undefined : maxAgeS * 1000,
    allowDebug: opts.allowDebug === true,
    expectedPcrs: pcrs,
    expectedNonce: opts.nonce,
    expectedUserData: opts.userData,
  }, opts.json === true, () => [])
}

/** `bursar attestation fetch --host URL`: challenges a live enclave with a fresh nonce and checks its binding. */
export async function runAttestationFetch(opts: AttestationFetchOptions): Promise<CliResult> {
  const pcrs = parsePcrs(opts.pcr)
  if (typeof pcrs === 'string') return usage(pcrs)
  let root = AWS_NITRO_ROOT_G1_PEM
  try {
    if (opts.root) root = await readFile(opts.root, 'utf8')
  } catch (err) {
    return usage(`cannot read: ${(err as Error).message}`)
  }
  const nonce = randomBytes(32).toString('hex')
  let body: unknown
  try {
    const url = `${opts.host.replace(/\/+$/, '')}/v1/attestation?nonce=${nonce}`
    const res = await (opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(15_000) })
    if (!res.ok) return refused(opts.json, 'attestation_response_invalid', `host answered HTTP ${res.status}`)
    body = await res.json().catch(() => undefined)
  } catch (err) {
    return usage(`cannot reach ${opts.host}: ${(err as Error).message}`)
  }
  const parsed = AttestationResponseSchema.safeParse(body)
  if (!parsed.success) return refused(opts.json, 'attestation_response_invalid', `unexpected response: ${parsed.error.issues[0]?.message}`)
  const { document, userDataInputs, signerPublicKey } = parsed.data
  const result = verifyAndReport(documentBytes(Buffer.from(document, 'utf8')), {
    root,
    maxAgeMs: LIVE_MAX_AGE_S * 1000,
    allowDebug: opts.allowDebug === true,
    expectedPcrs: pcrs,
    expectedNonce: nonce,
    // SECURITY: the binding is recomputed here from the inputs; the host's word is only an input.
    expectedUserData: computeAttestationUserData(userDataInputs),
    expectedPublicKey: signerPublicKey,
  }, opts.json === true, () => [
    ['policy set', userDataInputs.policySetHash],
    ['signer key', signerPublicKey.replace(/^0x/, '')],
    ['wallets', userDataInputs.wallets.join(', ') || '(none)'],
    ['audit head', `seq ${userDataInputs.auditHead.seq} ${userDataInputs.auditHead.hash}`],
    ['config', `${userDataInputs.configVersion} (state version ${userDataInputs.stateVersion})`],
  ], { userDataInputs, signerPublicKey })
  // Refused against the default AWS root by a host that says it runs the simulation: name the root to pass.
  if (result.exitCode === 1 && !opts.root && !opts.json) {
    const mode = await (opts.fetch ?? fetch)(`${opts.host.replace(/\/+$/, '')}/readyz`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.json() as Promise<{ mode?: string }>)
      .then((b) => b.mode, () => undefined)
    if (mode === 'sim') {
      result.stderr += `This host runs in SIMULATION mode: its documents chain to the simulation root, not AWS Nitro Root-G1.\n  Pass --root <data dir>/sim-pki/SIMULATION-ROOT-NOT-SECURE.pem (make sim prints the path; ./data by default) and --allow-debug if asked.\n`
    }
  }
  return result
}

function verifyAndReport(
  bytes: Uint8Array,
  options: VerifyAttestationOptions,
  json: boolean,
  extraLines: () => [string, string][],
  extraJson: Record<string, unknown> = {},
): CliResult {
  let doc: VerifiedAttestation
  try {
    doc = verifyAttestation(bytes, options)
  } catch (err) {
    if (!(err instanceof AttestationError)) throw err
    if (err.code === 'attestation_options_invalid') return usage(err.details ?? err.shortMessage)
    return refused(json, err.code, err.shortMessage, err)
  }
  const summary = summarize(doc)
  if (json) return { exitCode: 0, stdout: `${JSON.stringify({ verified: true, document: summary, ...extraJson }, null, 2)}\n`, stderr: '' }
  const zero = Object.entries(summary.pcrs).filter(([, v]) => /^0+$/.test(v)).map(([k]) => k)
  const lines: [string, string][] = [
    ['module', doc.moduleId],
    ['time', `${new Date(doc.timestamp).toISOString()} (${doc.timestamp} ms)`],
    ['checked at', new Date(doc.verifiedAt).toISOString()],
    ['debug mode', doc.debugMode ? 'YES (PCR0/1/2 are zero: not a production enclave)' : 'no'],
    ...Object.entries(summary.pcrs).filter(([k]) => !zero.includes(k)).map(([k, v]): [string, string] => [`PCR${k}`, v]),
    ['zero PCRs', zero.length ? zero.join(',') : '(none)'],
    ['public key', summary.publicKey ?? '(none)'],
    ['user data', summary.userData ?? '(none)'],
    ['nonce', summary.nonce ?? '(none)'],
    ...extraLines(),
  ]
  const text = lines.map(([k, v]) => `  ${k.padEnd(11)} ${v}`).join('\n')
  return { exitCode: 0, stdout: `VERIFIED attestation document\n${text}\n`, stderr: '' }
}

function summarize(doc: VerifiedAttestation) {
  const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'))
  return {
    moduleId: doc.moduleId,
    timestamp: doc.timestamp,
    time: new Date(doc.timestamp).toISOString(),
    verifiedAt: new Date(doc.verifiedAt).toISOString(),
    digest: doc.digest,
    debugMode: doc.debugMode,
    pcrs: Object.fromEntries([...doc.pcrs].map(([i, v]) => [String(i), hex(v) as string])),
    publicKey: hex(doc.publicKey),
    userData: hex(doc.userData),
    nonce: hex(doc.nonce),
  }
}

function refused(json: boolean | undefined, code: string, message: string, err?: AttestationError): CliResult {
  const error = { code, message, details: err?.details, expected: err?.expected, actual: err?.actual }
  if (json) return { exitCode: 1, stdout: `${JSON.stringify({ verified: false, error }, null, 2)}\n`, stderr: '' }
  const more = [err?.details && `  details:  ${err.details}`, err?.expected && `  expected: ${err.expected}`, err?.actual && `  actual:   ${err.actual}`]
  return { exitCode: 1, stdout: '', stderr: `REFUSED (${code}): ${message}\n${more.filter(Boolean).map((l) => `${l}\n`).join('')}` }
}

/** Raw CBOR as is; a file of base64 text (whitespace allowed) is decoded first. */
function documentBytes(file: Uint8Array): Uint8Array {
  const text = Buffer.from(file).toString('latin1').trim()
  if (text.length > 0 && /^[A-Za-z0-9+/_=\-\s]+$/.test(text)) return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'))
  return new Uint8Array(file)
}

function parsePcrs(list: string[] | undefined): Record<number, string> | string {
  const out: Record<number, string> = {}
  for (const item of list ?? []) {
    const m = /^(\d{1,2})=((?:0x)?[0-9a-fA-F]+)$/.exec(item)
    if (!m || Number(m[1]) > 31 || m[2]!.replace(/^0x/, '').length % 2 !== 0) return `--pcr must be N=HEX (N 0..31), got '${item}'`
    out[Number(m[1])] = m[2]!
  }
  return out
}

type Sink = (result: CliResult) => void
const collect = (value: string, previous: string[] = []) => [...previous, value]

function buildCommand(sink: Sink, onCommanderExit: (err: CommanderError) => never): Command {
  const cmd = new Command('attestation').description('verify Nitro attestation documents (offline or from a live host)')
  const verify = cmd
    .command('verify')
    .description('verify an attestation document file (raw CBOR or base64)')
    .argument('<file>', 'attestation document')
    .requiredOption('--root <pem>', 'pinned root certificate (AWS Nitro Root-G1, or the simulation root)')
    .option('--at <unixSeconds>', 'check the chain at this time ("document" = its own timestamp); default now')
    .option('--allow-debug', 'accept debug-mode enclaves (PCR0/1/2 zero)')
    .option('--pcr <N=HEX>', 'expected PCR value (repeatable)', collect)
    .option('--nonce <hex>', 'expected nonce')
    .option('--user-data <hex>', 'expected user_data')
    .option('--max-age <seconds>', `maximum document age (default ${LIVE_MAX_AGE_S} in live mode)`)
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: Omit<AttestationVerifyOptions, 'file'>) => sink(await runAttestationVerify({ ...o, file })))
  const fetchCmd = cmd
    .command('fetch')
    .description('challenge a live host with a fresh nonce and verify its attestation and commitment')
    .addOption(hostOption())
    .option('--root <pem>', 'pinned root certificate (default: embedded AWS Nitro Root-G1)')
    .option('--pcr <N=HEX>', 'expected PCR value (repeatable)', collect)
    .option('--allow-debug', 'accept debug-mode enclaves (PCR0/1/2 zero)')
    .option('--json', 'machine-readable output')
    .action(async (o: AttestationFetchOptions) => sink(await runAttestationFetch(o)))
  for (const c of [cmd, verify, fetchCmd]) c.exitOverride(onCommanderExit)
  return cmd
}

/** The `attestation` command group for bin/bursar (commander 14); usage errors exit 2. */
export function attestationCommand(): Command {
  return buildCommand(
    (r) => {
      if (r.stdout) process.stdout.write(r.stdout)
      if (r.stderr) process.stderr.write(r.stderr)
      process.exitCode = r.exitCode
    },
    (err) => process.exit(err.exitCode === 0 ? 0 : 2),
  )
}

/** Runs `attestation …` argv (after the group name is stripped or not) in-process, capturing output: for tests. */
export async function runAttestationCli(argv: string[]): Promise<CliResult> {
  let result: CliResult = { exitCode: 0, stdout: '', stderr: '' }
  const out = { stdout: '', stderr: '' }
  const cmd = buildCommand((r) => (result = r), (err) => { throw err })
  for (const c of [cmd, ...cmd.commands]) c.configureOutput({ writeOut: (s) => (out.stdout += s), writeErr: (s) => (out.stderr += s) })
  try {
    await cmd.parseAsync(argv[0] === 'attestation' ? argv.slice(1) : argv, { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    return { exitCode: err.exitCode === 0 ? 0 : 2, stdout: out.stdout, stderr: out.stderr || `${err.message}\n` }
  }
  return result
}
