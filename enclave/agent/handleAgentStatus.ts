/**
 * TRUST: an agent's authenticated read of its own state (signed AgentReadRequest, same key and freshness rules as
 * signing); nothing is signed, counted or audited. readPayments only proves who asks: the host filters by that id.
 */
import { type KeyObject, createPublicKey, verify } from 'node:crypto'
import { budgetStatus } from '../../core/policy/budgetStatus.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { AgentStatusResult } from '../../shared/protocol/messages.js'
import { AgentReadRequestSchema } from '../../shared/schemas/agentReadRequest.js'
import { parsePolicy } from '../../shared/schemas/policy.js'
import type { Enclave } from '../Enclave.js'
import { ledgerOf } from '../owner/ledgerOps.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'

const keys = new Map<string, KeyObject>()

export async function handleAgentStatus(enclave: Enclave, req: { request: string; signature: string }): Promise<HandlerResult> {
  let json: unknown
  try {
    json = JSON.parse(req.request)
  } catch {
    throw new EnclaveError('request_invalid', 'Agent read request is not JSON')
  }
  const parsed = AgentReadRequestSchema.safeParse(json)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new EnclaveError('request_invalid', `Agent read request: ${i?.path.join('.')} ${i?.message}`.slice(0, 200))
  }
  const r = parsed.data
  const wallet = enclave.wallet(r.wallet)
  const agent = wallet.agents.get(r.agentId)
  if (!agent) throw new EnclaveError('agent_not_found', 'Agent is not registered on this wallet')
  let key = keys.get(agent.agentId)
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(agent.publicKey).toString('base64url') }, format: 'jwk' })
    keys.set(agent.agentId, key)
  }
  // SECURITY: the signature over the exact text, by the key the owner registered, is what names the agent.
  if (!verify(null, Buffer.from(req.request, 'utf8'), key, Buffer.from(req.signature, 'hex')))
    throw new EnclaveError('agent_signature_invalid', 'Agent signature does not verify')
  const now = enclave.now()
  const fresh = enclave.replay.check(agent.agentId, r.nonce, r.issuedAt, now)
  if (fresh !== 'ok') throw new EnclaveError(fresh, `Agent read request refused: ${fresh}`)

  const out: AgentStatusResult = { agentId: agent.agentId, wallet: wallet.address, op: r.op, ...(r.limit ? { limit: r.limit } : {}) }
  if (r.op === 'readStatus') {
    const rec = wallet.policies.get(agent.agentId)
    const live = rec && !rec.revoked ? rec : null
    const policy = live ? parsePolicy(live.json) : null
    const view = budgetStatus({ policy, ledger: ledgerOf(wallet), agentId: agent.agentId, now })
    const policyInfo = live ? { version: live.version, hash: live.hash, expiresAt: policy?.expiresAt ?? null } : null
    out.status = { now, revoked: agent.status === 'revoked', policy: policyInfo, ...view }
  }
  return { ok: true, result: out }
}
