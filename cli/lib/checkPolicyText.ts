import YAML, { LineCounter } from 'yaml'
import type { z } from 'zod'
import { type Policy, PolicySchema } from '../../shared/schemas/policy.js'

type Common = { text: string; format: 'yaml' | 'json'; wallet: string; name: string }
/** An agent policy (PolicySchema, bound to `agentId`), or any other policy document by its `schema` (e.g. WalletPolicySchema, no agent). */
export type CheckPolicyTextParameters<T = Policy> = Common & ({ agentId: string; schema?: undefined } | { agentId?: undefined; schema: z.ZodType<T> })
export type PolicyTextIssue = { path: string; message: string; line: number | null }
export type CheckPolicyTextReturnType<T = Policy> =
  | { ok: true; policy: T; warnings: string[] }
  | { ok: false; code: 'policy_file_unparsable' | 'policy_invalid'; issues: PolicyTextIssue[] }

/**
 * Validates a policy as the owner wrote it (YAML or JSON), bound to the wallet and agent it is for (they win over
 * the text's, with a warning), with the enclave's own PolicySchema. Every issue names its path, the line it is on
 * and, where YAML read an address or amount as a number, says so. Shared by `bursar owner policy set` and the
 * console's live editor.
 */
export function checkPolicyText(p: Common & { agentId: string }): CheckPolicyTextReturnType
export function checkPolicyText<T>(p: Common & { schema: z.ZodType<T> }): CheckPolicyTextReturnType<T>
export function checkPolicyText<T>({ text, format, wallet, agentId, name, schema }: CheckPolicyTextParameters<T>): CheckPolicyTextReturnType<T | Policy> {
  const lines = new LineCounter()
  let value: unknown
  let doc: YAML.Document.Parsed | null = null
  if (format === 'json') {
    try {
      value = JSON.parse(text)
    } catch (cause) {
      return { ok: false, code: 'policy_file_unparsable', issues: [{ path: '(root)', message: (cause as Error).message.split('\n')[0] ?? '', line: null }] }
    }
  } else {
    doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false })
    const err = doc.errors[0]
    if (err) {
      const line = err.linePos?.[0]?.line ?? lines.linePos(err.pos[0]).line
      return { ok: false, code: 'policy_file_unparsable', issues: [{ path: '(root)', message: err.message.split('\n')[0] ?? '', line }] }
    }
    value = doc.toJS()
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, code: 'policy_invalid', issues: [{ path: '(root)', message: 'expected a mapping of policy fields', line: null }] }
  }
  const body = value as Record<string, unknown>
  const warnings: string[] = []
  if (body.wallet !== undefined && String(body.wallet).toLowerCase() !== wallet.toLowerCase())
    warnings.push(`${name} names wallet ${String(body.wallet)}; using --wallet ${wallet}`)
  if (agentId !== undefined && body.agentId !== undefined && body.agentId !== agentId) warnings.push(`${name} names agent ${String(body.agentId)}; using --agent ${agentId}`)
  const parsed = (schema ?? PolicySchema).safeParse({ ...body, wallet, ...(agentId === undefined ? {} : { agentId }) })
  if (parsed.success) return { ok: true, policy: parsed.data, warnings }
  const issues = parsed.error.issues.map((i): PolicyTextIssue => {
    const where = i.path.length ? i.path.join('.') : '(root)'
    const got = valueAt(body, i.path)
    // YAML reads an unquoted 0x… address or a bare amount as a number: say so where it happened.
    const tip = typeof got === 'number' ? ` (YAML read this as the number ${got}: quote it, e.g. "0x…" or "5000000")` : ''
    return { path: where, message: `${i.message}${tip}`, line: doc ? lineOf(doc, lines, i.path) : null }
  })
  return { ok: false, code: 'policy_invalid', issues }
}

function valueAt(v: unknown, path: PropertyKey[]): unknown {
  let cur = v
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<PropertyKey, unknown>)[k]
  }
  return cur
}

/** The 1-based line of the deepest node of `path` present in the document. */
function lineOf(doc: YAML.Document.Parsed, lines: LineCounter, path: PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as (string | number)[], true)
    const range = (node as { range?: [number, number, number] } | undefined)?.range
    if (range) return lines.linePos(range[0]).line
  }
  return null
}
