import { createHash } from 'node:crypto'
import { canonicalJson } from '../canonical/canonicalJson.js'
import type { DecodedAction } from '../schemas/decodedAction.js'

/**
 * What an owner approves when answering a pending request: the decoded
 * purchase without its volatile parts (EIP-3009 nonce and validity window),
 * the agent and the resource host. The agent's retry of the same purchase
 * (new nonce) matches it; any other amount, payee, asset or chain does not.
 */
export type ApprovalSummary = Record<string, unknown> & { agentId: string; host: string | null }

export function approvalSummary(agentId: string, action: DecodedAction, resourceUrl: string | undefined): ApprovalSummary {
  const { nonce: _n, validAfter: _a, validBefore: _b, ...stable } = action as Record<string, unknown>
  let host: string | null = null
  try {
    host = resourceUrl ? new URL(resourceUrl).host.toLowerCase() : null
  } catch {}
  return { ...stable, agentId, host }
}

/** 0x + SHA-256 of the summary's canonical JSON: the pending id's digest, and what ResolvePending signs. */
export function approvalDigest(summary: Record<string, unknown>): `0x${string}` {
  return `0x${createHash('sha256').update(canonicalJson(summary)).digest('hex')}`
}
