import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Store } from '../storage/Store.js'
import { ownerReadGuard } from '../plugins/ownerReadGuard.js'

const Query = z.object({
  wallet: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
  agent: z.string().max(64).optional(),
  verdict: z.enum(['allow', 'deny', 'pending', 'info']).optional(),
  from: z.coerce.number().int().optional(),
  to: z.coerce.number().int().optional(),
  after: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

/** Audit log reads (owner-authenticated): query with cursor pagination, export, checkpoints. */
export function auditRoutes(store: Store, guard: ReturnType<typeof ownerReadGuard>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/audit/entries',
      { schema: { tags: ['audit'], summary: 'Query audit entries (cursor = after)', querystring: Query }, preHandler: guard },
      async (req) => {
        const q = req.query
        const texts = await store.queryEntries({
          wallet: q.wallet,
          agentId: q.agent,
          verdict: q.verdict,
          fromTime: q.from,
          toTime: q.to,
          afterSeq: q.after,
          limit: q.limit,
        })
        const entries = texts.map((t) => JSON.parse(t) as { seq: number })
        const last = entries[entries.length - 1]
        const first = entries[0]
        const checkpoints = first ? await store.checkpoints(first.seq - 1, 1_000_000).then((c) => c.filter((x) => x.seq <= (last?.seq ?? 0))) : []
        return { entries, checkpoints: checkpoints.slice(-1), next: entries.length === q.limit && last ? last.seq : null }
      },
    )
    app.get(
      '/v1/audit/export',
      {
        schema: { tags: ['audit'], summary: 'Whole log as JSONL (entries then checkpoints) or CSV', querystring: z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl') }) },
        preHandler: guard,
      },
      async (req, reply) => {
        const { exportJsonl, exportCsv } = await import('./auditExport.js')
        const body = req.query.format === 'csv' ? await exportCsv(store) : await exportJsonl(store)
        return reply.type(req.query.format === 'csv' ? 'text/csv' : 'application/x-ndjson').send(body)
      },
    )
  }
}
