// Owner CLI: dry-runs a policy against one decoded request (and optionally a ledger) and explains the verdict. Offline; signs nothing.
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import YAML from 'yaml'
import { z } from 'zod'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import { parsePolicy, PolicyInvalidError } from '../../shared/schemas/policy.js'
import { parseWalletPolicy } from '../../shared/schemas/walletPolicy.js'
import { LedgerEventSchema, SpendLedgerJsonSchema } from '../../core/ledger/LedgerEvent.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { bindAction } from '../../core/kinds/kindTable.js'
import type { Check } from '../../core/policy/evalTypes.js'
import { explainPolicy } from '../../core/policy/explainPolicy.js'
import type { ExplainPolicyReturnType } from '../../core/policy/explainPolicy.js'

/** Exit codes: 0 allow, 1 deny or pending, 2 unreadable or invalid input. */
export type PolicyExplainResult = { exitCode: 0 | 1 | 2; stdout: string; stderr: string }
export type PolicyExplainOptions = {
  policy: string
  request: string
  /** The wallet policy (wallet-wide caps across all agents; the ledger then holds every agent's spends). */
  walletPolicy?: string | undefined
  ledger?: string | undefined
  now?: string | undefined
  json?: boolean | undefined
}

/** Service context the SDK reports; advisory (the agent can lie about it), checked only against host allow/deny lists. */
const ServiceContextSchema = z
  .object({
    resourceUrl: z.string().max(2048).optional(),
    reason: z.string().max(280).optional(),
  })
  .strict()

const RequestFileSchema = z.union([
  DecodedActionSchema,
  z
    .object({
      action: DecodedActionSchema,
      context: ServiceContextSchema.optional(),
      agentId: z.string().optional(),
      permitId: z.string().optional(),
    })
    .strict(),
])

/** Runs the explanation without touching process state (testable); the command wraps it. */
export function runPolicyExplain(o: PolicyExplainOptions): PolicyExplainResult {
  let out: ExplainPolicyReturnType
  let now: number
  const notes: string[] = []
  try {
    const req = RequestFileSchema.parse(readStructured(o.request))
    const r = 'action' in req ? req : { action: req, context: undefined, agentId: undefined, permitId: undefined }
    // A policy file written for `owner policy set` may leave wallet and agentId out (the flags bind them): a dry run
    // needs some, so it takes the request's payer and a placeholder agent, and says so.
    const body = readStructured(o.policy)
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      const b = body as Record<string, unknown>
      const from = (r.action as { from?: unknown }).from
      if (b.wallet === undefined) {
        b.wallet = typeof from === 'string' ? from : `0x${'0'.repeat(40)}`
        notes.push(`${o.policy} names no wallet: explaining for ${String(b.wallet)}${typeof from === 'string' ? ' (the request\'s payer)' : ''}`)
      }
      if (b.agentId === undefined) {
        b.agentId = r.agentId ?? `agt_${'0'.repeat(40)}`
        notes.push(`${o.policy} names no agentId: explaining for ${String(b.agentId)}`)
      }
    }
    const policy = parsePolicy(body)
    now = o.now === undefined ? Date.now() : Date.parse(o.now)
    if (!Number.isFinite(now)) return fail(`--now: not an ISO date: ${o.now}`)
    const ledger = o.ledger === undefined ? new SpendLedger() : loadLedger(readStructured(o.ledger))
    const walletPolicy = o.walletPolicy === undefined ? null : parseWalletPolicy(readStructured(o.walletPolicy))
    // A batch voucher counts from the channel's highest signed total in the ledger, as in the enclave's writer.
    out = explainPolicy({ policy, action: bindAction(r.action, ledger), context: r.context, agentId: r.agentId ?? policy.agentId, ledger, now, permitId: r.permitId, walletPolicy })
  } catch (e) {
    if (e instanceof PolicyInvalidError)
      return fail(`${o.policy}: ${e.shortMessage}\n${(e.metaMessages ?? []).map((m) => `  ${m}`).join('\n')}\nFix the fields above (docs/policy.md lists every field; examples/policy.example.yaml is a complete policy).`)
    if (e instanceof z.ZodError) return fail(`invalid input:\n${e.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`)
    return fail((e as Error).message)
  }
  const exitCode = out.verdict.verdict === 'allow' ? 0 : 1
  if (o.json) return { exitCode, stdout: `${JSON.stringify({ now: new Date(now).toISOString(), ...out }, null, 2)}\n`, stderr: '' }
  return { exitCode, stdout: human(out, now), stderr: notes.map((n) => `note: ${n}\n`).join('') }
}

/** `bursar owner policy explain`: why a policy allows, denies or holds a request. */
export function policyExplainCommand(): Command {
  return new Command('explain')
    .description('explain what a policy decides for one decoded request (offline dry run)')
    .requiredOption('--policy <file>', 'policy (YAML or JSON)')
    .requiredOption('--request <file>', 'a DecodedAction JSON, or {action, context?, agentId?, permitId?}')
    .option('--wallet-policy <file>', 'wallet policy (YAML or JSON): also check its wallet-wide caps (all agents in the ledger together)')
    .option('--ledger <file>', 'ledger snapshot JSON, or an array of ledger events to replay (every agent of the wallet)')
    .option('--now <iso>', 'evaluation time (default: now)')
    .option('--json', 'print JSON')
    .action((opts: PolicyExplainOptions) => {
      const r = runPolicyExplain(opts)
      process.stdout.write(r.stdout)
      process.stderr.write(r.stderr)
      process.exitCode = r.exitCode
    })
}

function readStructured(file: string): unknown {
  const text = readFileSync(file, 'utf8')
  return file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text)
}

function loadLedger(v: unknown): SpendLedger {
  if (!Array.isArray(v)) return SpendLedger.fromJSON(SpendLedgerJsonSchema.parse(v))
  const l = new SpendLedger()
  for (const e of v) l.apply(LedgerEventSchema.parse(e))
  return l
}

function fail(message: string): PolicyExplainResult {
  return { exitCode: 2, stdout: '', stderr: `error: ${message}\n` }
}

function line(c: Check): string {
  return `    ${c.ok ? '✓' : '✗'} ${c.name.padEnd(22)} ${c.message}${c.code ? `  [${c.code}]` : ''}`
}

function human({ verdict: v, trace }: ExplainPolicyReturnType, now: number): string {
  const out: string[] = []
  if (v.verdict === 'allow') out.push(`ALLOW  by ${v.rule}`)
  else if (v.verdict === 'deny') out.push(`DENY   ${v.code}  (${v.rule})`, `  why: ${v.message}`)
  else out.push(`PENDING  ${v.pendingId}  (${v.rule})`, `  why: ${v.message}`, `  the owner can approve until ${new Date(v.expiresAt).toISOString()}`)
  if (v.verdict === 'deny' && v.remaining !== undefined) out.push(`  remaining before this request: ${v.remaining}`)
  out.push(`  at: ${new Date(now).toISOString()}`)
  out.push(`  ledger events if recorded: ${v.events.map((e) => e.type).join(', ')}`)
  if (trace.stages.length) out.push('', '  checks:', ...trace.stages.map(line))
  for (const r of trace.rules) {
    const state = r.effect === 'deny' ? (r.ok ? 'MATCHES' : 'no match') : r.ok ? 'passes' : 'fails'
    out.push('', `  ${r.effect} rule ${r.rule}: ${state}`, ...r.checks.map(line))
  }
  return `${out.join('\n')}\n`
}
