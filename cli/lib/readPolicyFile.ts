import { readFileSync } from 'node:fs'
import { BaseError } from '../../shared/errors/base.js'
import type { Policy } from '../../shared/schemas/policy.js'
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
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (cause) {
    throw new BaseError('policy_file_unreadable', `Cannot read policy file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      metaMessages: ['Pass the path of a YAML or JSON policy (examples/policy.example.yaml is a starting point).'],
    })
  }
  const json = file.endsWith('.json')
  const r = checkPolicyText({ text, format: json ? 'json' : 'yaml', wallet, agentId, name: file })
  if (r.ok) return { policy: r.policy, warnings: r.warnings }
  if (r.code === 'policy_file_unparsable')
    throw new BaseError('policy_file_unparsable', `${file} is not valid ${json ? 'JSON' : 'YAML'}`, { metaMessages: r.issues.map((i) => i.message) })
  throw new BaseError('policy_invalid', `Policy file ${file} is invalid`, { metaMessages: r.issues.map((i) => `  ${i.path}: ${i.message}`) })
}
