/**
 * TRUST: an agent's authenticated read of its own state (signed AgentReadRequest, same key and freshness rules as
 * signing); nothing is signed, counted or audited. readPayments only proves who asks: the host filters by that id.
 */
import { agentStatusView } from '../../core/policy/budgetStatus.js'
import { AgentReadOrOpenSchema } from '../../shared/schemas/agentReadRequest.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { openSession } from './agentSessions.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { verifyAgentRequest } from './verifyAgentRequest.js'

export async function handleAgentStatus(enclave: Parameters<typeof verifyAgentRequest>[0], req: { request: string; signature: string }): Promise<HandlerResult<'agentStatus'>> {
  const { request: r, wallet, agent } = verifyAgentRequest(enclave, req.request, req.signature, AgentReadOrOpenSchema)
  const now = enclave.now()
  // SECURITY: a session is agreed under the agent's Ed25519 key only, never under another session.
  if (r.op === 'openSession' && req.signature.startsWith('s1:')) throw new EnclaveError('request_invalid', 'openSession must be Ed25519-signed')
  enclave.replay.admit(agent.agentId, r.nonce, r.issuedAt, now)
  if (r.op === 'openSession') return { ok: true, result: { agentId: agent.agentId, wallet: wallet.address, op: r.op, session: openSession(enclave, agent, wallet.address, req.request, r.x25519, now) } }
  const status = r.op === 'readStatus' ? { status: agentStatusView({ wallet, agentId: agent.agentId, revoked: agent.status === 'revoked', now }) } : {}
  return { ok: true, result: { agentId: agent.agentId, wallet: wallet.address, op: r.op, ...(r.limit ? { limit: r.limit } : {}), ...status } }
}
