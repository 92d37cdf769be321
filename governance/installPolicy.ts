import { canonicalJson } from '../shared/canonical/canonicalJson.js'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import { PolicyInvalidError, parsePolicy, policyHash } from '../shared/schemas/policy.js'
import { parseWalletPolicy } from '../shared/schemas/walletPolicy.js'
import type { PolicyRecord, WalletPolicyRecord, WalletView } from '../core/state/stateTypes.js'

export type SetPolicyMessage = { wallet: string; agentId: string; version: string; policyHash: string }
export type SetWalletPolicyMessage = { wallet: string; version: string; policyHash: string }

/**
 * Checks an owner-signed policy and returns the record to install (pure: the
 * shell installs it). SECURITY: the owner signed the canonical
 * hash, so the policy text must hash to it, name this wallet and agent, and
 * carry a version newer than the installed one (an older one never wins).
 * It is stored as canonical JSON (the hashed form), at most OWNER_LIMITS.policyBytes.
 */
export function installPolicy(wallet: WalletView, m: SetPolicyMessage, text: string | undefined): PolicyRecord {
  const { policy, json, hash } = signedDocument(parsePolicy, m, text)
  if (policy.wallet.toLowerCase() !== wallet.address.toLowerCase() || policy.agentId !== m.agentId) {
    throw new EnclaveError('policy_invalid', 'Policy names another wallet or agent than the signed act')
  }
  const agent = wallet.agents.get(m.agentId)
  if (!agent || agent.status !== 'active') throw new EnclaveError('agent_not_found', 'Register the agent before setting its policy')
  checkNewer(policy.version, wallet.policies.get(m.agentId)?.version)
  return { agentId: m.agentId, json, version: policy.version, hash }
}

/** The same checks for the wallet-level policy (wallet-wide caps): hash, wallet, newer version, size. */
export function installWalletPolicy(wallet: WalletView, m: SetWalletPolicyMessage, text: string | undefined): WalletPolicyRecord {
  const { policy, json, hash } = signedDocument(parseWalletPolicy, m, text)
  if (policy.wallet.toLowerCase() !== wallet.address.toLowerCase()) throw new EnclaveError('policy_invalid', 'Wallet policy names another wallet than the signed act')
  checkNewer(policy.version, wallet.walletPolicy?.version)
  return { json, version: policy.version, hash }
}

function signedDocument<P extends { version: number }>(parse: (t: string) => P, m: { version: string; policyHash: string }, text: string | undefined) {
  if (!text) throw new EnclaveError('policy_invalid', 'The act needs the policy JSON alongside the signed act')
  let policy: P
  try {
    policy = parse(text)
  } catch (err) {
    const lines = err instanceof PolicyInvalidError ? (err.metaMessages ?? []).slice(0, 5).join('; ') : ''
    throw new EnclaveError('policy_invalid', `Policy is invalid: ${lines}`.slice(0, 500))
  }
  // SECURITY: bounded state: the enclave keeps the canonical JSON (what the hash covers), never the sent text, and
  // refuses a policy whose canonical form passes the size limit.
  const json = canonicalJson(policy)
  const bytes = new TextEncoder().encode(json).length
  checkLimit(bytes <= OWNER_LIMITS.policyBytes, 'policyBytes', `Policy is ${bytes} bytes as canonical JSON (limit ${OWNER_LIMITS.policyBytes}); shorten its lists`)
  const hash = policyHash(policy)
  if (hash !== m.policyHash.toLowerCase()) throw new EnclaveError('policy_hash_mismatch', 'Policy does not hash to the signed policyHash')
  if (String(policy.version) !== m.version) throw new EnclaveError('policy_invalid', 'Policy version differs from the signed version')
  return { policy, json, hash }
}

function checkNewer(version: number, current: number | undefined): void {
  if (current !== undefined && version <= current) throw new EnclaveError('policy_version_not_newer', `Policy version ${version} is not newer than ${current}`)
}
