/**
 * Completes the generated OpenAPI document (@fastify/swagger's transformObject): the error shape every route can
 * answer, the security schemes (agent Ed25519 signed requests, owner EIP-712 acts and read tokens, operator bearer
 * tokens) and the JSON schema of the text an agent signs. Documentation only: nothing here changes what a route
 * accepts or answers.
 */
import { z } from 'zod'
import { AgentRequestSchema } from '../shared/schemas/agentRequest.js'

type Doc = Record<string, unknown> & {
  components?: Record<string, Record<string, unknown>>
  paths?: Record<string, Record<string, Record<string, unknown>>>
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'message'],
  description:
    'Every refusal and error: `code` is a stable machine-readable code from the error table (shared/errors/errorCodes.ts: code → meaning → HTTP status → hint), `message` says what happened. Policy refusals may add the rule, the remaining budget, a pending request id or a retry delay.',
  properties: {
    code: { type: 'string', example: 'policy_daily_cap_exceeded' },
    message: { type: 'string' },
    rule: { type: 'string', description: 'The policy rule that decided' },
    remaining: { type: 'string', description: 'Budget left in the window, base units' },
    pendingId: { type: 'string', description: 'approval_pending: the pending request the owner decides (pnd_…)' },
    retryAfterMs: { type: 'number', description: 'Retry after this many milliseconds (fresh request)' },
  },
}

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'Malformed request (`request_invalid`, schema codes)',
  '401': 'Signature or credentials do not verify',
  '403': 'Refused: policy, agent state or authorization (`policy_*`, `agent_*`, `owner_not_authorized`)',
  '404': 'Unknown wallet, agent or pending request',
  '409': 'Conflict: replay, sequence, nonce reuse, rollback',
  '429': 'Rate or velocity limit',
  '500': 'Internal error (no detail leaves the host)',
  '503': 'Enclave unavailable, loading, halted or timed out (`enclave_*`)',
}

const SECURITY_SCHEMES = {
  agentSignature: {
    type: 'http',
    scheme: 'bursar-agent-ed25519',
    description:
      'Carried in the body, not in a header: agent requests are authenticated in the body. The agent serializes an AgentRequest (components.schemas.AgentRequest) to JSON text, signs the UTF-8 bytes of that exact text with its Ed25519 key (the key registered by the owner, agentId = agt_ + the first 20 bytes of SHA-256 of the public key) and posts `{ "request": <text>, "signature": <128 hex digits> }`. The enclave verifies the signature over the text it receives, refuses a request older than 30 s or past its expiresAt, and a nonce reused with other bytes; an identical resend returns the first answer.',
  },
  ownerAct: {
    type: 'http',
    scheme: 'bursar-owner-eip712',
    description: 'Carried in the body, not in a header: owner acts carry an EIP-712 signature by the wallet owner\'s EVM key over the act (typed data in the body), sequenced per wallet (`seq`), answered with a receipt signed by the attested receipt key.',
  },
  ownerReadToken: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: '`Authorization: Bursar-Owner <token>`: an EIP-712 AuditRead { owner, host, expiresAt } signed by an owner for this host\'s origin (`bursar audit token --host URL`); reads are scoped to that owner\'s wallets, and a token signed for another host is refused.',
  },
  operatorToken: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <BURSAR_AUDIT_TOKEN>`: the operator/auditor reads the whole audit log.' },
  metricsToken: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <BURSAR_METRICS_TOKEN>` when the host sets one; otherwise /metrics answers the host machine only (loopback).' },
}

/** Which credentials a path takes (documentation of what the routes check). */
function securityOf(path: string): Array<Record<string, string[]>> | undefined {
  if (path.startsWith('/v1/agent/')) return [{ agentSignature: [] }]
  if (path === '/v1/owner/acts') return [{ ownerAct: [] }]
  if (path.startsWith('/v1/audit/')) return [{ ownerReadToken: [] }, { operatorToken: [] }, {}]
  if (path.startsWith('/v1/operator/')) return [{ operatorToken: [] }]
  if (path.startsWith('/v1/wallets') || path === '/v1/owner/wallets' || path.startsWith('/v1/owner/webhooks/')) return [{ ownerReadToken: [] }, { operatorToken: [] }]
  return undefined
}

let agentRequestSchema: unknown
function agentRequestJsonSchema(): unknown {
  agentRequestSchema ??= z.toJSONSchema(AgentRequestSchema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' })
  return agentRequestSchema
}

export function completeOpenApi(doc: Doc): Doc {
  const components = { ...(doc.components ?? {}) }
  components.schemas = { ...(components.schemas ?? {}), Error: ERROR_SCHEMA, AgentRequest: agentRequestJsonSchema() as Record<string, unknown> }
  components.securitySchemes = { ...(components.securitySchemes ?? {}), ...SECURITY_SCHEMES }
  const paths: NonNullable<Doc['paths']> = {}
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    paths[path] = {}
    for (const [method, op] of Object.entries(ops)) {
      const responses = { ...((op.responses as Record<string, unknown> | undefined) ?? {}) }
      if (path.startsWith('/v1/') || path === '/readyz') {
        for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
          responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
        }
      }
      const next: Record<string, unknown> = { ...op, responses }
      const security = securityOf(path)
      if (security && !op.security) next.security = security
      if (path === '/v1/agent/sign' || path === '/v1/agent/status' || path === '/v1/agent/payments' || path === '/v1/agent/session') {
        next.description = `${String(op.description ?? '')}\n\nBody: \`{ request, signature }\` where \`request\` is the JSON text of an AgentRequest (see components.schemas.AgentRequest; reads use op readStatus / readPayments, /v1/agent/session op openSession) and \`signature\` the agent's Ed25519 signature over its UTF-8 bytes, hex — or, on /v1/agent/sign inside a session, \`s1:<session id>:<HMAC-SHA256 hex>\` (docs/agent-sdk.md, "Sessions"). See the agentSignature security scheme.`.trim()
      }
      paths[path][method] = next
    }
  }
  return { ...doc, components, paths }
}
