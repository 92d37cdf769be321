/**
 * TRUST: an agent's authenticated read of its own state (signed AgentReadRequest, same key and freshness rules as
 * signing); nothing is signed, counted or audited. readPayments only proves who asks: the host filters by that id.
 */
import { agentStatusView } from '../../core/policy/budgetStatus.js'
import { AgentReadRequestSchema } from '../../shared/schemas/agentReadRequest.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { verifyAgentRequest } from './verifyAgentRequest.js'

export async function handleAgentStatus(enclave: Parameters<typeof verifyAgentRequest>[0], req: { request: string; signature: string }): Promise<HandlerResult<'agentStatus'>> {
  const { request: r, wallet, agent } = verifyAgentRequest(enclave, req.request, req.signature, AgentReadRequestSchema)
  const now = enclave.now()
  enclave.replay.admit(agent.agentId, r.nonce, r.issuedAt, now)
  const status = r.op === 'readStatus' ? { status: agentStatusView({ wallet, agentId: agent.agentId, revoked: agent.status === 'revoked', now }) } : {}
  return { ok: true, result: { agentId: agent.agentId, wallet: wallet.address, op: r.op, ...(r.limit ? { limit: r.limit } : {}), ...status } }
}
