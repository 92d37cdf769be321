import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AUDIT_CHAIN_LABEL } from '../../shared/audit/servedAuditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { CheckpointSchema } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'
import type { AuditScope, ownerReadGuard } from '../plugins/ownerReadGuard.js'
import { type AuditScan, auditNext, checkpointRows, MIN_SCAN_ROWS } from '../storage/auditScan.js'
import type { AuditQuery, Store, StoredCheckpoint } from '../storage/Store.js'
import { auditExport, chainHeader, walletExport } from './auditExport.js'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
/** ms since the epoch, or an ISO 8601 date-time. */
const time = z
  .string()
  .max(40)
  .refine((s) => /^\d{1,16}$/.test(s) || !Number.isNaN(Date.parse(s)), 'ms since the epoch or ISO 8601')
  .describe('ms since the epoch or ISO 8601')

export const AuditEntriesQuerySchema = z
  .object({
    wallet: address.optional(),
    agent: z.string().max(64).optional(),
    verdict: z.enum(['allow', 'deny', 'pending', 'info']).optional(),
    from: time.optional().describe('entries at or after this time'),
    to: time.optional().describe('entries before this time'),
    after: z.coerce.number().int().min(-1).optional().describe('cursor: entries with seq > after (use `next`)'),
    request: z.string().regex(/^[0-9a-f]{32}$/).optional().describe('one agent request id (its nonce): its decision, and whether the agent fetched the answer'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict()

const ErrorBody = z.object({ code: z.string(), message: z.string() })
export const AuditEntriesResponseSchema = z.object({
  scope: z.enum(['all', 'owner']).describe('owner: only the wallets the token owner owns (not a contiguous chain)'),
  entries: z.array(z.record(z.string(), z.unknown())).describe('stored entries (AuditEntry + recorded hash `hash`; an entry of a chain other than the root also `auditChain`, its chain id: neither is part of the hashed entry), ascending (seq, chain)'),
  checkpoints: z.array(CheckpointSchema).describe('signed checkpoints for the returned range (owner scope: at returned seqs), each of its entries\' own chain (a non-root one names it: `chain`, signed)'),
  next: z
    .number()
    .int()
    .nullable()
    .describe('pass as `after` for the next page; null when this page is the last. A page may hold fewer than `limit` entries (even none) and still have a `next`: follow it until null'),
  scanned: z.number().int().describe('stored rows this query read, entries and checkpoints (the host\'s row budget, BURSAR_AUDIT_SCAN_ROWS, bounds it)'),
  scannedThrough: z.number().int().describe('every entry after `after` up to this seq was read for this page'),
  answers: z
    .array(
      z.object({
        requestId: z.string(),
        agentId: z.string(),
        status: z.number().int(),
        code: z.string().nullable(),
        signed: z.boolean(),
        auditSeq: z.number().int().nullable(),
        decidedAt: z.number().int(),
        fetchedAt: z.number().int().nullable(),
        fetchCount: z.number().int(),
      }),
    )
    .optional()
    .describe('with `request`: the answer the host stored for it and whether it was ever written out to the agent in full (host-side record, untrusted)'),
})
export const AuditHeadResponseSchema = z.object({ checkpoint: CheckpointSchema.nullable() })

const AUTH_DOC =
  'Authorization: `Bursar-Owner <base64url(JSON {owner, expiresAt, signature})>` (EIP-712 AuditRead signed by the owner: that owner’s wallets) or `Bearer <BURSAR_AUDIT_TOKEN>` (operator: everything). Unneeded when BURSAR_AUDIT_AUTH=open.'

type Guard = ReturnType<typeof ownerReadGuard>

/** Rows one /v1/audit/entries query reads at most (audit39: BURSAR_AUDIT_SCAN_ROWS). */
export const DEFAULT_AUDIT_SCAN_ROWS = 5_000

/**
 * Audit log reads: query with cursor pagination (owner-scoped or full), streamed export, public signed head.
 * `scanRows` (audit39): the row budget of one entries query, on the host's only thread (auditScan.ts).
 */
export function auditRoutes(store: Store, gateway: EnclaveGateway, guard: Guard, scanRows = DEFAULT_AUDIT_SCAN_ROWS): FastifyPluginAsyncZod {
  const rows = Math.max(MIN_SCAN_ROWS, scanRows)
  return async (app) => {
    const authorize = async (req: Parameters<Guard>[0], reply: FastifyReply): Promise<AuditScope | null> => {
      const scope = await guard(req)
      if ('status' in scope) {
        reply.code(scope.status).header('www-authenticate', 'Bursar-Owner, Bearer').send({ code: scope.code, message: scope.message })
        return null
      }
      return scope
    }
    const ownedWallets = async (owner: string, reply: FastifyReply): Promise<string[] | null> => {
      const res = await gateway.call({ type: 'getWallets' })
      if (!res.ok) {
        reply.code(errorStatus(res.error.code)).send({ code: res.error.code, message: res.error.message })
        return null
      }
      // SECURITY: ownership comes from the enclave's wallet view, never from the request.
      const wallets = res.result.wallets
      // The wallet's owner set (issue 19): every current owner key reads it; a rotated-out key (even the creating one) does not.
      const mine = (w: (typeof wallets)[number]) => w.governance.owners.some((o) => o.toLowerCase() === owner.toLowerCase())
      return wallets.filter(mine).map((w) => w.address.toLowerCase())
    }

    app.get(
      '/v1/audit/entries',
      {
        schema: {
          tags: ['audit'],
          summary: 'Query audit entries (cursor pagination: after + limit → next; each page reads at most the host\'s row budget)',
          description: AUTH_DOC,
          querystring: AuditEntriesQuerySchema,
          response: { 200: AuditEntriesResponseSchema, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const scope = await authorize(req, reply)
        if (!scope) return reply
        const q = req.query
        const query: AuditQuery = {
          wallet: q.wallet,
          agentId: q.agent,
          verdict: q.verdict,
          fromTime: toMs(q.from),
          toTime: toMs(q.to),
          afterSeq: q.after,
          requestId: q.request,
          limit: q.limit,
        }
        // ckpt40b: the page's checkpoints are read under the same budget: the scan leaves them `checkpointRows`.
        const scanRows = rows - checkpointRows(rows, q.limit)
        let page: AuditScan
        if (scope.kind === 'owner') {
          const owned = await ownedWallets(scope.owner, reply)
          if (!owned) return reply
          if (q.wallet && !owned.includes(q.wallet.toLowerCase()))
            return reply.code(403).send({ code: 'audit_wallet_not_owned', message: `${q.wallet} is not a wallet of ${scope.owner}: query one of yours` })
          page = await scanWallets(store, q.wallet ? [q.wallet] : owned, query, scanRows)
        } else page = await store.scanEntries(query, scanRows)
        // At least one checkpoint row (a page that moves): the budget is ≥ 2 × checkpointRows, but more chains than
        // the budget read one row per chain (windowEnd).
        const unfiltered = () => !q.wallet && !q.agent && !q.verdict && !q.from && !q.to && !q.request
        const { entries, checkpoints, next, rows: cpRows, page: cut } = await pageCheckpoints(store, page, scope.kind === 'owner', q.limit, Math.max(1, rows - page.scanned), unfiltered)
        return {
          scope: scope.kind === 'owner' ? ('owner' as const) : ('all' as const),
          entries,
          checkpoints,
          next,
          scanned: cut.scanned + cpRows,
          scannedThrough: cut.through,
          ...(q.request ? { answers: await answersOf(store, q.request, entries as unknown as { agentId?: string | null }[]) } : {}),
        }
      },
    )

    app.get(
      '/v1/audit/export',
      {
        schema: {
          tags: ['audit'],
          summary: 'Whole log, streamed: JSONL (verifiable, operator) or CSV; an owner token gets its wallets only; `wallet`: one wallet\'s thread',
          description: `${AUTH_DOC} The chain is global: a verifiable export needs the operator token (or open mode); an owner token gets its own entries and the checkpoints at their seqs (X-Bursar-Audit-Scope: owner). With \`wallet\`: that wallet's entries only (its thread: walletSeq, walletPrev) and the checkpoints at their seqs (X-Bursar-Audit-Scope: wallet), for \`bursar audit verify --wallet\`; an owner token must own it.`,
          querystring: z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl'), wallet: address.optional() }).strict(),
          response: { 401: ErrorBody, 403: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const scope = await authorize(req, reply)
        if (!scope) return reply
        const { format, wallet } = req.query
        reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        if (wallet !== undefined) {
          if (scope.kind === 'owner') {
            const owned = await ownedWallets(scope.owner, reply)
            if (!owned) return reply
            if (!owned.includes(wallet.toLowerCase()))
              return reply.code(403).type('application/json').send({ code: 'audit_wallet_not_owned', message: `${wallet} is not a wallet of ${scope.owner}: export one of yours` })
          }
          reply.header('x-bursar-audit-scope', 'wallet')
          return reply.send(Readable.from(walletExport(store, wallet.toLowerCase(), format)) as never)
        }
        if (scope.kind === 'owner') {
          const owned = await ownedWallets(scope.owner, reply)
          if (!owned) return reply
          reply.header('x-bursar-audit-scope', 'owner')
          return reply.send(Readable.from(ownerExport(store, owned, format, rows)) as never)
        }
        reply.header('x-bursar-audit-scope', 'all')
        return reply.send(Readable.from(auditExport(store, format)) as never)
      },
    )

    app.get(
      '/v1/audit/head',
      {
        schema: {
          tags: ['audit'],
          summary: 'Latest signed checkpoint (public: it is signed by the enclave receipt key)',
          response: { 200: AuditHeadResponseSchema },
        },
      },
      async () => {
        // Issue 15 step 4: this pair's chain; a non-root chain's checkpoint names it (it is in the signed message).
        const c = await store.latestCheckpoint(gateway.chain)
        return { checkpoint: c && { ...c, ...(gateway.chain && { chain: gateway.chain }) } }
      },
    )
  }
}

function toMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  return /^\d+$/.test(v) ? Number(v) : Date.parse(v)
}

/** audit40: the fewest rows one wallet's index read gets in an owner's page; more wallets than rows / this: one window. */
export const MIN_WALLET_ROWS = 100

/**
 * audit39: one budgeted page over several wallets (an owner's): each wallet's scan (the budget shared), merged by seq
 * up to the first seq some wallet has not read past, cut to the limit. audit40: `rows` is the page's total: with more
 * wallets than rows / MIN_WALLET_ROWS (before: 100 rows each, whatever their number) the page is the unfiltered
 * query's seq window with only these wallets' entries matching (rows read ≤ `rows` either way).
 */
export async function scanWallets(store: Store, wallets: string[], q: AuditQuery, rows: number): Promise<AuditScan> {
  if (wallets.length * MIN_WALLET_ROWS > rows) return store.scanEntries({ ...q, wallet: undefined, wallets: wallets.map((w) => w.toLowerCase()) }, rows)
  const each = Math.floor(rows / Math.max(1, wallets.length))
  const pages = await Promise.all(wallets.map((w) => store.scanEntries({ ...q, wallet: w }, each)))
  const open = pages.filter((p) => p.more)
  let through = open.length > 0 ? Math.min(...open.map((p) => p.through)) : Math.max(q.afterSeq ?? -1, ...pages.map((p) => p.through))
  const hits = pages
    .flatMap((p) => p.texts.map((t, i) => ({ t, chain: p.chains[i]!, seq: (JSON.parse(t) as { seq: number }).seq })))
    .filter((h) => h.seq <= through)
  hits.sort((a, b) => a.seq - b.seq || (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0))
  // At the limit: the whole of the last seq (each wallet's page holds all of a seq it returns), as auditScanPage does.
  const cut = hits[q.limit - 1]?.seq
  if (cut !== undefined) through = cut
  const scanned = pages.reduce((n, p) => n + p.scanned, 0)
  const kept = hits.filter((h) => h.seq <= through)
  return { texts: kept.map((h) => h.t), chains: kept.map((h) => h.chain), scanned, through, more: open.length > 0 || cut !== undefined }
}

/**
 * Checkpoints from the first returned seq through the first one covering the last returned seq. `wholeLogEnd`: the
 * entries are the last page of the unfiltered log, so a checkpoint past the last one was stored after the entries
 * were read, with the entries it covers (a persist between the two reads; PostgresStore reads are not one
 * snapshot): served past the end it would read as a truncated log (audit_truncated), so it waits for the next read.
 * `rows`: the checkpoint rows read at most.
 */
export async function rangeCheckpoints(store: Store, entries: { seq: number }[], wholeLogEnd = false, rows = 10_000): Promise<StoredCheckpoint[]> {
  return (await readRange(store, entries, wholeLogEnd, rows)).checkpoints
}

/**
 * rangeCheckpoints, and what the read took: `read` rows; `covered`: the last seq the checkpoints cover (every one
 * from the first entry's seq up to it was read): the last entry's, or less when `rows` ran out before a checkpoint
 * at or past it (ckpt40b: the page then ends there).
 */
async function readRange(store: Store, entries: { seq: number }[], wholeLogEnd: boolean, rows: number, chain = '') {
  const first = entries[0]
  let last = entries[entries.length - 1]
  if (!first || !last) return { checkpoints: [], read: 0, covered: null }
  const cps = await store.checkpoints(first.seq - 1, rows, chain)
  let cut = cps.findIndex((c) => c.seq >= last!.seq)
  if (cut < 0 && cps.length >= rows && cps.length > 0) {
    // The read stopped at its LIMIT short of the last entry: entries past the last checkpoint read wait for a page.
    last = { seq: cps[cps.length - 1]!.seq }
    cut = cps.length - 1
  }
  const range = cut < 0 ? cps : cps.slice(0, cut + 1)
  return { checkpoints: wholeLogEnd ? range.filter((c) => c.seq <= last!.seq) : range, read: cps.length, covered: last.seq }
}

/**
 * ckpt40b: a page's entries and their checkpoints, the checkpoint rows read at most `left` (what the scan left of
 * the budget; before: up to 10,000 beside it, outside the budget). Owner scope: the checkpoint at each returned
 * entry's seq of that entry's own chain (tidy41: was the root chain's, whichever chain the entry was in; a non-root
 * one carries `chain`, which its signature covers), one row an entry, one read a chain (Store.checkpointsAt; was one a
 * seq); else rangeCheckpoints of each chain on the page over its entries, `left` shared by them (chains41; tidy41 served
 * a page mixing chains the root's only) (docs/audit.md "Querying"). Each served entry of a non-root chain is labelled
 * with it (AUDIT_CHAIN_LABEL, outside the hashed entry). Where `left` rows do not reach the last entry, the page
 * ends at the last seq they cover: fewer entries, `next` there (every candidate up to it was read). So each page's
 * checkpoints cover each of its entries as before and the pages followed to the end verify as the whole log did.
 * `unfiltered`: the query is the whole log (its last page gets no checkpoint past its last entry).
 */
export async function pageCheckpoints(store: Store, scanned: AuditScan, owner: boolean, limit: number, left: number, unfiltered: () => boolean) {
  let page = scanned
  let entries = page.texts.map((t) => JSON.parse(t) as { seq: number })
  const cutAt = (through: number) => {
    const keep = (_: unknown, i: number) => entries[i]!.seq <= through
    page = { texts: page.texts.filter(keep), chains: page.chains.filter(keep), scanned: page.scanned, through, more: true }
    entries = entries.filter((e) => e.seq <= through)
  }
  let checkpoints: Array<StoredCheckpoint & { chain?: string }>
  let rows: number
  if (owner) {
    const bySeq = new Map<number, Set<string>>() // each returned seq's chains, ascending
    entries.forEach((e, i) => bySeq.set(e.seq, (bySeq.get(e.seq) ?? new Set()).add(page.chains[i]!)))
    // Within `left` rows (one an entry), never ending inside a seq: the seqs whose entries all fit (at least the first).
    let fit = 0
    let through: number | undefined
    for (const [seq, chains] of bySeq) {
      if (through !== undefined && fit + chains.size > left) break
      fit += chains.size
      through = seq
    }
    if (through !== undefined && through < entries.at(-1)!.seq) cutAt(through)
    const wanted = new Map<string, number[]>() // the entries' seqs, by chain
    entries.forEach((e, i) => (wanted.get(page.chains[i]!) ?? wanted.set(page.chains[i]!, []).get(page.chains[i]!)!).push(e.seq))
    const read = await Promise.all([...wanted].map(async ([chain, seqs]) => (await store.checkpointsAt(seqs, chain)).map((c): StoredCheckpoint & { chain?: string } => (chain ? { ...c, chain } : c))))
    checkpoints = read.flat().sort((a, b) => a.seq - b.seq || ((a.chain ?? '') < (b.chain ?? '') ? -1 : 1))
    rows = fit
  } else {
    // audit39: a page ends at the limit (as before) or where the row budget ran out (page.through).
    const wholeLogEnd = auditNext(page, entries.at(-1)?.seq, limit) === null && unfiltered()
    // chains41: each chain on the page gets its own range over its own entries, each naming a non-root chain (tidy41:
    // a page of one chain's; a page mixing chains got the root's only), `left` shared by the chains (one chain: all of it).
    const chains = [...new Set(page.chains)]
    const share = Math.max(1, Math.floor(left / Math.max(1, chains.length)))
    const ofChain = (chain: string) => entries.filter((_, i) => page.chains[i] === chain)
    const ranges = await Promise.all(chains.map((chain) => readRange(store, ofChain(chain), wholeLogEnd, share, chain)))
    // A chain whose checkpoints ran out short of its last entry ends the page there (a chain covered through its
    // last entry does not: the others' entries past it are still covered by theirs).
    const short = ranges.map((r, k) => (r.covered !== null && r.covered < ofChain(chains[k]!).at(-1)!.seq ? r.covered : Number.POSITIVE_INFINITY))
    const covered = Math.min(...short)
    if (entries.length > 0 && covered < entries.at(-1)!.seq) cutAt(covered)
    // Cut where one chain's checkpoints ran out: each chain's range ends at the first checkpoint covering its last entry left.
    checkpoints = ranges.flatMap((r, k) => {
      const chain = chains[k]!
      const last = ofChain(chain).at(-1)?.seq ?? -1
      const end = r.checkpoints.findIndex((c) => c.seq >= last)
      const range = end < 0 ? r.checkpoints : r.checkpoints.slice(0, end + 1)
      return chain ? range.map((c) => ({ ...c, chain })) : range
    })
    if (chains.length > 1) checkpoints.sort((a, b) => a.seq - b.seq || ((a.chain ?? '') < (b.chain ?? '') ? -1 : 1))
    rows = ranges.reduce((n, r) => n + r.read, 0)
  }
  // chains41: each entry of a chain other than the root says which (AUDIT_CHAIN_LABEL, beside `hash`, not hashed).
  const served = entries.map((e, i) => (page.chains[i] ? { ...e, [AUDIT_CHAIN_LABEL]: page.chains[i] } : e))
  return { page, entries: served, checkpoints, rows, next: auditNext(page, entries.at(-1)?.seq, limit) }
}

async function* ownerExport(store: Store, wallets: string[], format: 'jsonl' | 'csv', budget: number): AsyncGenerator<string> {
  const { AUDIT_CSV_COLUMNS } = await import('../../shared/audit/exportFormats.js')
  if (format === 'csv') yield `${AUDIT_CSV_COLUMNS.join(',')}\r\n`
  if (wallets.length === 0) return
  // Issue 15 step 4: per chain, the root's first (as before chains), each other's after its header line.
  for (const chain of await store.chains()) {
    if (chain && format === 'jsonl') yield chainHeader(chain)
    yield* ownerChainExport(store, wallets, format, chain, budget)
  }
}

async function* ownerChainExport(store: Store, wallets: string[], format: 'jsonl' | 'csv', chain: string, budget: number): AsyncGenerator<string> {
  const { toAuditCsv } = await import('../../shared/audit/exportFormats.js')
  for (let after: number | null = -1; after !== null; ) {
    // audit40: each page within the row budget (before: 1,000 rows per wallet, every wallet at once).
    const page: AuditScan = await scanWallets(store, wallets, { chain, afterSeq: after, limit: 1_000 }, budget)
    // biome-ignore lint/suspicious/noExplicitAny: the stored entries, served as stored
    const rows = page.texts.map((t) => JSON.parse(t) as any)
    after = auditNext(page, rows.at(-1)?.seq, 1_000)
    if (rows.length === 0) continue
    if (format === 'csv') {
      const csv = toAuditCsv({ entries: rows.map(({ hash: _h, ...e }) => e), hashes: rows.map((r) => r.hash) })
      yield csv.slice(csv.indexOf('\r\n') + 2)
      continue
    }
    const cps = new Map((await store.checkpointsAt(rows.map((r) => r.seq), chain)).map((c) => [c.seq, c]))
    yield rows
      .map((r) => {
        const c = cps.get(r.seq)
        return `${canonicalJson({ type: 'entry', ...r })}\n${c ? `${canonicalJson({ type: 'checkpoint', ...c })}\n` : ''}`
      })
      .join('')
  }
}

/** The stored answers for one request id, for the agents of the entries the caller may see (owner scope included). */
async function answersOf(store: Store, requestId: string, entries: { agentId?: string | null }[]) {
  const agents = new Set(entries.map((e) => e.agentId).filter((a): a is string => typeof a === 'string'))
  const out = []
  for (const agentId of agents) {
    const a = await store.agentAnswer(agentId, requestId)
    if (!a) continue
    const body = JSON.parse(a.body) as { code?: unknown; signature?: unknown }
    out.push({
      requestId,
      agentId,
      status: a.status,
      code: typeof body.code === 'string' ? body.code : null,
      signed: typeof body.signature === 'string',
      auditSeq: a.auditSeq,
      decidedAt: a.decidedAt,
      fetchedAt: a.fetchedAt,
      fetchCount: a.fetchCount,
    })
  }
  return out
}
