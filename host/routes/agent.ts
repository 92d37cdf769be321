import { channel } from 'node:diagnostics_channel'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { AgentSignBodySchema as AgentSignBody } from '../../shared/protocol/messages.js'
import { type EnclaveGateway, answerText } from '../enclave/EnclaveGateway.js'
import type { Store } from '../storage/Store.js'
import type { PendingWebhooks } from '../webhooks/PendingWebhooks.js'
import { AgentSignOnce } from './agentSignOnce.js'

/**
 * The agent hot path: forwards the signed request text unchanged; the enclave decides. A resend of the same
 * signed bytes gets the answer the first copy got (AgentSignOnce); whether an answer was written out to the
 * agent in full is recorded for the owner (`bursar audit query --request <id>`).
 */
export function agentRoutes(gateway: EnclaveGateway, store: Store, webhooks?: PendingWebhooks): FastifyPluginAsyncZod {
  // Fetch marks: the store batches them (SQLite until its next commit, PostgreSQL one UPDATE per event-loop turn), off the answer's path.
  const markFetched = (key: { agentId: string; nonce: string }) => void store.markAnswersFetched([key], Date.now()).catch(() => {})
  return async (app) => {
    const once = new AgentSignOnce(gateway, store, Date.now(), (line) => app.log.error({ component: 'store' }, line))
    app.post(
      '/v1/agent/sign',
      {
        schema: {
          tags: ['agent'],
          summary: 'Ask the enclave to sign (typed data, EIP-1559 transaction or message) under the agent policy',
          description: 'Resending the identical signed request returns the answer the first copy got; the same nonce with other bytes is refused (request_nonce_reused).',
          body: AgentSignBody,
        },
      },
      async (req, reply) => {
        if (routeTrace.hasSubscribers) routeTrace.publish({ at: performance.now() })
        const answer = await once.sign(req.body)
        const b = answer.body as { code?: unknown; pendingId?: unknown }
        if (webhooks && b?.code === 'approval_pending' && typeof b.pendingId === 'string') webhooks.onPending(walletOf(req.body.request), b.pendingId)
        const key = answer.stored
        if (key) {
          // 'finish': the whole answer was handed to the agent's connection (not when the agent hung up first).
          reply.raw.once('finish', () => markFetched(key))
        }
        // Issue 18 (cpu18): a decided answer goes out as the exact JSON text stored for it (not serialized a second time).
        const text = answerText(answer.body)
        if (text !== undefined) return reply.code(answer.status).type('application/json; charset=utf-8').send(text)
        return reply.code(answer.status).send(answer.body)
      },
    )
  }
}

/** c1-42: the route's entry (body read, parsed, validated), for a bench probe (scripts/bench/hopStamps.mjs); published only to a subscriber. */
const routeTrace = channel('bursar.route')

/** The wallet the (untrusted) request names; the webhook looks the pending id up in the enclave's view of it. */
function walletOf(text: string): string {
  try {
    const w = (JSON.parse(text) as { wallet?: unknown }).wallet
    return typeof w === 'string' ? w : ''
  } catch {
    return ''
  }
}
