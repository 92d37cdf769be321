import { readFileSync } from 'node:fs'
import { BaseError } from '../../shared/errors/base.js'
import YAML from 'yaml'
import type { z } from 'zod'
import type { Policy } from '../../shared/schemas/policy.js'
import { type WalletPolicy, WalletPolicySchema } from '../../shared/schemas/walletPolicy.js'
import { checkPolicyText } from './checkPolicyText.js'

export type ReadPolicyFileParameters = { file: string; wallet: string; agentId: string }
export type ReadPolicyFileReturnType = { policy: Policy; warnings: string[] }

/**
 * Reads a YAML or JSON policy for `bursar owner policy set`, binds it to the
 * wallet and agent named on the command line (they win over the file's, with
 * a warning), and validates it (checkPolicyText, as the console's editor).
 * Every failure names the file and, for an invalid policy, each offending path.
 */
export function readPolicyFile({ file, wallet, agentId }: ReadPolicyFileParameters): ReadPolicyFileReturnType {
  const text = readText(file)
  const json = file.endsWith('.json')
  const r = checkPolicyText({ text, format: json ? 'json' : 'yaml', wallet, agentId, name: file })
  if (r.ok) return { policy: r.policy, warnings: r.warnings }
  if (r.code === 'policy_file_unparsable')
    throw new BaseError('policy_file_unparsable', `${file} is not valid ${json ? 'JSON' : 'YAML'}`, { metaMessages: r.issues.map((i) => i.message) })
  throw new BaseError('policy_invalid', `Policy file ${file} is invalid`, { metaMessages: r.issues.map((i) => `  ${i.path}: ${i.message}`) })
}

/** The same for a wallet policy (`bursar owner wallet policy set`): bound to --wallet, no agent. */
export function readWalletPolicyFile({ file, wallet }: { file: string; wallet: string }): { policy: WalletPolicy; warnings: string[] } {
  return readPolicyDocument(WalletPolicySchema, { file, wallet })
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (cause) {
    throw new BaseError('policy_file_unreadable', `Cannot read policy file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      metaMessages: ['Pass the path of a YAML or JSON policy (examples/policy.example.yaml is a starting point).'],
    })
  }
}

function readPolicyDocument<T>(schema: z.ZodType<T>, { file, wallet, agentId }: { file: string; wallet: string; agentId?: string }): { policy: T; warnings: string[] } {
  const text = readText(file)
  const json = file.endsWith('.json')
  let value: unknown
  try {
    value = json ? JSON.parse(text) : YAML.parse(text)
  } catch (cause) {
    throw new BaseError('policy_file_unparsable', `${file} is not valid ${json ? 'JSON' : 'YAML'}`, {
      metaMessages: [(cause as Error).message.split('\n')[0] ?? ''],
    })
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BaseError('policy_invalid', `Policy file ${file} is invalid`, { metaMessages: ['  (root): expected a mapping of policy fields'] })
  }
  const body = value as Record<string, unknown>
  const warnings: string[] = []
  if (body.wallet !== undefined && String(body.wallet).toLowerCase() !== wallet.toLowerCase())
    warnings.push(`${file} names wallet ${String(body.wallet)}; using --wallet ${wallet}`)
  if (agentId !== undefined && body.agentId !== undefined && body.agentId !== agentId) warnings.push(`${file} names agent ${String(body.agentId)}; using --agent ${agentId}`)
  const parsed = schema.safeParse({ ...body, wallet, ...(agentId === undefined ? {} : { agentId }) })
  if (parsed.success) return { policy: parsed.data, warnings }
  const issues = parsed.error.issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : '(root)'
    const got = valueAt(body, i.path)
    // YAML reads an unquoted 0x… address or a bare amount as a number: say so where it happened.
    const tip = typeof got === 'number' ? ` (YAML read this as the number ${got}: quote it, e.g. "0x…" or "5000000")` : ''
    return `  ${where}: ${i.message}${tip}`
  })
  throw new BaseError('policy_invalid', `Policy file ${file} is invalid`, { metaMessages: issues })
}

function valueAt(v: unknown, path: PropertyKey[]): unknown {
  let cur = v
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<PropertyKey, unknown>)[k]
  }
  return cur
}
