import { type KeyObject, createPublicKey, verify } from 'node:crypto'
import type { z } from 'zod'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { type AgentRequest, AgentRequestSchema } from '../../shared/schemas/agentRequest.js'
import { typedDataRequestFast } from '../../shared/schemas/typedDataRequestFast.js'
import type { Enclave } from '../Enclave.js'
import type { AgentRecord, WalletView } from '../../core/state/stateTypes.js'
import { checkSessionMac, sessionHolds } from './agentSessions.js'

const keyCache = new Map<string, KeyObject>()

/**
 * Authenticates an agent request: parses the exact text the agent signed,
 * finds the registered agent, and checks its Ed25519 signature over those
 * bytes. SECURITY: nothing from the text is trusted before the signature
 * verifies against the key the owner registered. `schema`: another signed
 * request shape (agent reads) under the same key and framing. `s1:` authenticators are session MACs
 * (agentSessions.ts), checked over the bytes before parsing; both paths return the same thing.
 */
export function verifyAgentRequest<R extends { agentId: string; wallet: string } = AgentRequest>(
  enclave: Enclave,
  text: string,
  signatureHex: string, schema: z.ZodType<R> = AgentRequestSchema as unknown as z.ZodType<R>,
): { request: R; wallet: WalletView; agent: Readonly<AgentRecord> } {
  const session = signatureHex.startsWith('s1:') ? checkSessionMac(enclave, signatureHex, text, enclave.now()) : null
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new EnclaveError('request_invalid', 'Agent request is not JSON')
  }
  // The hot shape by direct checks (exactly zod's value, else zod decides: typedDataRequestFast.test.ts).
  const fast = schema === (AgentRequestSchema as unknown) ? (typedDataRequestFast(json) as R | undefined) : undefined
  const parsed = fast ? { success: true as const, data: fast } : schema.safeParse(json)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new EnclaveError('request_invalid', `Agent request: ${i?.path.join('.')} ${i?.message}`.slice(0, 200))
  }
  const request = parsed.data
  const wallet = enclave.wallet(request.wallet)
  const agent = wallet.agents.get(request.agentId)
  if (session) {
    // SECURITY: the session is this agent's on this wallet, and the agent is still the one that opened it.
    if (session.agentId !== request.agentId || session.wallet !== wallet.address) throw new EnclaveError('session_invalid', 'Session belongs to another agent or wallet')
    if (sessionHolds(enclave, signatureHex, session, agent)) return { request, wallet, agent: agent! }
    if (agent?.status === 'revoked') throw new EnclaveError('agent_revoked', 'Agent was revoked by its owner')
  }
  if (!agent) throw new EnclaveError('agent_not_found', 'Agent is not registered on this wallet')
  if (session) throw new EnclaveError('session_unknown', 'The agent was re-keyed since this session opened')
  let key = keyCache.get(agent.agentId)
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(agent.publicKey).toString('base64url') }, format: 'jwk' })
    keyCache.set(agent.agentId, key)
  }
  if (!verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signatureHex, 'hex'))) {
    throw new EnclaveError('agent_signature_invalid', 'Agent signature does not verify')
  }
  return { request, wallet, agent }
}
