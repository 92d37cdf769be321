// Operator CLI for Nitro deployment: turns `nitro-cli build-enclave` / `describe-eif` measurements into the
// PCRs to expect and a ready-to-paste KMS key-policy condition block.
import { readFile } from 'node:fs/promises'
import { Command, CommanderError } from 'commander'
import { z } from 'zod'

export type NitroCliResult = { exitCode: 0 | 1 | 2; stdout: string; stderr: string }

const Pcr = z.string().regex(/^[0-9a-fA-F]{96}$/, 'must be 96 hex characters (SHA-384)').transform((s) => s.toLowerCase())
const MeasurementsSchema = z
  .object({
    HashAlgorithm: z.string().regex(/^sha384\b/i, 'only Sha384 measurements are supported'),
    PCR0: Pcr,
    PCR1: Pcr,
    PCR2: Pcr,
    PCR8: Pcr.optional(),
  })
  .loose()
/** nitro-cli prints `{ "Measurements": {...}, ... }` (build-enclave, describe-eif); a bare Measurements object is accepted too. */
const InputSchema = z.union([z.object({ Measurements: MeasurementsSchema }).loose(), MeasurementsSchema.transform((m) => ({ Measurements: m }))])

const LABELS: Record<string, string> = {
  PCR0: 'enclave image file (= kms:RecipientAttestation:ImageSha384)',
  PCR1: 'Linux kernel and bootstrap',
  PCR2: 'application',
  PCR8: 'EIF signing certificate',
}

/** Computes the expected PCRs, the key-policy condition and the verifier flags from nitro-cli's JSON text. */
function describeMeasurements(text: string) {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { error: 'input is not JSON (expected the output of `nitro-cli build-enclave` or `nitro-cli describe-eif`)' } as const
  }
  const parsed = InputSchema.safeParse(raw)
  if (!parsed.success) {
    return { error: `not nitro-cli measurements: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}` } as const
  }
  const m = parsed.data.Measurements
  const pcrs: Record<string, string> = { PCR0: m.PCR0, PCR1: m.PCR1, PCR2: m.PCR2, ...(m.PCR8 ? { PCR8: m.PCR8 } : {}) }
  const condition: Record<string, string> = { 'kms:RecipientAttestation:ImageSha384': m.PCR0 }
  for (const name of ['PCR1', 'PCR2', 'PCR8'] as const) if (pcrs[name]) condition[`kms:RecipientAttestation:${name}`] = pcrs[name]
  return {
    hashAlgorithm: 'SHA384',
    pcrs,
    keyPolicyCondition: { StringEqualsIgnoreCase: condition },
    verifyArgs: Object.entries(pcrs).flatMap(([name, value]) => ['--pcr', `${name.slice(3)}=${value}`]),
  } as const
}

async function runPcrs(opts: { eifMeasurements?: string | undefined; json?: boolean | undefined }): Promise<NitroCliResult> {
  let text: string
  try {
    text = opts.eifMeasurements ? await readFile(opts.eifMeasurements, 'utf8') : await readStdin()
  } catch (err) {
    return { exitCode: 2, stdout: '', stderr: `error: cannot read ${opts.eifMeasurements ?? 'stdin'}: ${(err as Error).message}\n` }
  }
  const d = describeMeasurements(text)
  if ('error' in d) {
    const body = { error: { code: 'nitro_measurements_invalid', message: d.error } }
    return opts.json ? { exitCode: 1, stdout: `${JSON.stringify(body)}\n`, stderr: '' } : { exitCode: 1, stdout: '', stderr: `error: ${d.error}\n` }
  }
  if (opts.json) return { exitCode: 0, stdout: `${JSON.stringify(d, null, 2)}\n`, stderr: '' }
  const lines = ['Expected PCRs (SHA-384):']
  for (const [name, value] of Object.entries(d.pcrs)) lines.push(`  ${name.padEnd(5)} ${value}  ${LABELS[name]}`)
  if (!d.pcrs.PCR8) lines.push('  (no PCR8: the EIF is unsigned; sign it with --signing-certificate to pin the signer too)')
  lines.push(
    '',
    'KMS key-policy condition (paste into the Allow statement of deploy/nitro/kms-key-policy.template.json):',
    JSON.stringify(d.keyPolicyCondition, null, 2),
    '',
    'Check a running enclave against these values (AWS Nitro Root-G1 is the default root):',
    `  bursar attestation fetch --host <https://your-host> ${d.verifyArgs.join(' ')}`,
    '',
    'PCR0/1/2 change with every image rebuild: update the key policy BEFORE rolling out a new EIF, or the new enclave',
    'cannot unseal existing state (KMS answers AccessDeniedException → seal_kms_denied).',
  )
  return { exitCode: 0, stdout: `${lines.join('\n')}\n`, stderr: '' }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new Error('no --eif-measurements FILE given and stdin is a terminal')
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function buildCommand(done: (r: NitroCliResult) => void): Command {
  const nitro = new Command('nitro').description('AWS Nitro Enclaves deployment helpers (see docs/nitro.md)')
  nitro
    .command('pcrs')
    .description('print the PCRs an EIF will attest to and the matching KMS key-policy condition')
    .option('--eif-measurements <file>', 'JSON printed by `nitro-cli build-enclave` or `nitro-cli describe-eif` (default: stdin)')
    .option('--json', 'print JSON')
    .action(async (o: { eifMeasurements?: string; json?: boolean }) => done(await runPcrs(o)))
  return nitro
}

/** The `bursar nitro` command group (`pcrs`). */
export function nitroCommand(): Command {
  return buildCommand((r) => {
    if (r.stdout) process.stdout.write(r.stdout)
    if (r.stderr) process.stderr.write(r.stderr)
    process.exitCode = r.exitCode
  })
}

/** Runs `nitro …` argv in-process and captures its output (tests). */
export async function runNitroCli(argv: string[]): Promise<NitroCliResult> {
  let result: NitroCliResult = { exitCode: 0, stdout: '', stderr: '' }
  const out = { stdout: '', stderr: '' }
  const cmd = buildCommand((r) => (result = r))
  for (const c of [cmd, ...cmd.commands]) {
    c.exitOverride()
    c.configureOutput({ writeOut: (s) => (out.stdout += s), writeErr: (s) => (out.stderr += s) })
  }
  try {
    await cmd.parseAsync(argv[0] === 'nitro' ? argv.slice(1) : argv, { from: 'user' })
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    return { exitCode: err.exitCode === 0 ? 0 : 2, stdout: out.stdout, stderr: out.stderr || `${err.message}\n` }
  }
  return result
}
