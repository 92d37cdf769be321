import { readFileSync } from 'node:fs'
import { BaseError } from '../../shared/errors/base.js'
import type { Policy } from '../../shared/schemas/policy.js'
import { type WalletPolicy, WalletPolicySchema } from '../../shared/schemas/walletPolicy.js'
import { type CheckPolicyTextReturnType, checkPolicyText } from './checkPolicyText.js'

export type ReadPolicyFileParameters = { file: string; wallet: string; agentId: string }
export type ReadPolicyFileReturnType = { policy: Policy; warnings: string[] }

/**
 * Reads a YAML or JSON policy for `bursar owner policy set`, binds it to the
 * wallet and agent named on the command line (they win over the file's, with
 * a warning), and validates it (checkPolicyText, as the console's editor).
 * Every failure names the file and, for an invalid policy, each offending path.
 */
export function readPolicyFile({ file, wallet, agentId }: ReadPolicyFileParameters): ReadPolicyFileReturnType {
  return unwrap(file, checkPolicyText({ text: readText(file), format: format(file), wallet, agentId, name: file }))
}

/** The same for a wallet policy (`bursar owner wallet policy set`): bound to --wallet, no agent. */
export function readWalletPolicyFile({ file, wallet }: { file: string; wallet: string }): { policy: WalletPolicy; warnings: string[] } {
  return unwrap(file, checkPolicyText({ text: readText(file), format: format(file), wallet, name: file, schema: WalletPolicySchema }))
}

const format = (file: string) => (file.endsWith('.json') ? 'json' : 'yaml')

/** A checked policy, or the failure as a typed error naming the file and each offending path. */
function unwrap<T>(file: string, r: CheckPolicyTextReturnType<T>): { policy: T; warnings: string[] } {
  if (r.ok) return { policy: r.policy, warnings: r.warnings }
  if (r.code === 'policy_file_unparsable')
    throw new BaseError('policy_file_unparsable', `${file} is not valid ${format(file) === 'json' ? 'JSON' : 'YAML'}`, { metaMessages: r.issues.map((i) => i.message) })
  throw new BaseError('policy_invalid', `Policy file ${file} is invalid`, { metaMessages: r.issues.map((i) => `  ${i.path}: ${i.message}`) })
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
