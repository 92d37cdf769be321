/**
 * UNTRUSTED host: Prometheus metrics (prom-client), served at GET /metrics in the text exposition format. What the
 * enclave decided is counted from its answers as they pass the gateway; nothing here influences a decision.
 *
 *   bursar_signatures_total{outcome,code}           agent sign requests decided: outcome allowed|denied|pending, code
 *   bursar_pending_approvals                         open pending requests waiting for an owner (all wallets)
 *   bursar_http_request_duration_seconds{method,route,status_code}   every HTTP request, by route pattern
 *   bursar_enclave_request_duration_seconds{type}    enclave round trip (frame out → answer in), by request type
 *   bursar_enclave_errors_total{type,code}           enclave answers that are refusals or errors, by request type
 *   bursar_persist_duration_seconds                  one store commit (group commit of persist blocks)
 *   bursar_persist_entries_total                     audit entries stored
 *   bursar_enclave_phase{phase}                      1 for the enclave's current phase (ready, loading, halted, …)
 *   bursar_enclave_ready                             1 when the host serves (enclave connected and loaded)
 *   bursar_state_version, bursar_audit_head_seq      the enclave state version and audit head, as stored
 *   bursar_snapshot_bytes                            size of the newest sealed state snapshot stored
 *   bursar_acked_audit_seq, bursar_acked_state_version   what the host last told the enclave is stored (catchUp ack)
 *   plus prom-client's default process metrics (bursar_process_*, bursar_nodejs_*).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { BaseError } from '../shared/errors/base.js'
import { errorStatus } from '../shared/errors/errorCodes.js'
import type { EnclaveGateway, GatewayObserver } from './enclave/EnclaveGateway.js'

const digest = (s: string) => createHash('sha256').update(s).digest()
const sameDigest = (header: string, expected: Buffer) => timingSafeEqual(digest(header), expected)

const PHASES = ['disconnected', 'awaiting_state', 'loading', 'ready', 'halted'] as const
/** Latency buckets (seconds): sub-millisecond enclave calls up to the 30 s request timeout. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** How long a counted number of open pending requests is reused (each count asks the enclave for every wallet). */
const PENDING_CACHE_MS = 5_000
/** tail39: each store commit (start, ms, entries), for a bench probe (scripts/bench/gcTrace.mjs); published only to a subscriber. */
const storeTrace = channel('bursar.store')

export class HostMetrics {
  readonly registry = new Registry()
  private readonly signatures = new Counter({
    name: 'bursar_signatures_total',
    help: 'Agent sign requests decided by the enclave, by outcome (allowed, denied, pending) and code (ok or the refusal code)',
    labelNames: ['outcome', 'code'] as const,
    registers: [this.registry],
  })
  readonly http = new Histogram({
    name: 'bursar_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  })
  private readonly enclave = new Histogram({
    name: 'bursar_enclave_request_duration_seconds',
    help: 'Enclave round trip (request frame sent to answer received) by request type',
    labelNames: ['type'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  })
  private readonly enclaveErrors = new Counter({
    name: 'bursar_enclave_errors_total',
    help: 'Enclave answers that are refusals or errors, by request type and code',
    labelNames: ['type', 'code'] as const,
    registers: [this.registry],
  })
  private readonly persistSeconds = new Histogram({
    name: 'bursar_persist_duration_seconds',
    help: 'Duration of one store commit of persist blocks (audit entries, checkpoint, snapshot, agent answers)',
    buckets: BUCKETS,
    registers: [this.registry],
  })
  private readonly persistEntries = new Counter({ name: 'bursar_persist_entries_total', help: 'Audit entries stored', registers: [this.registry] })
  private snapshotBytes = 0
  private pending: { at: number; count: number } | null = null

  constructor(gateway: EnclaveGateway) {
    collectDefaultMetrics({ register: this.registry, prefix: 'bursar_' })
    const status = () => gateway.status
    new Gauge({
      name: 'bursar_enclave_phase',
      help: 'The enclave phase as the host sees it: 1 for the current phase, 0 for the others',
      labelNames: ['phase'] as const,
      registers: [this.registry],
      collect() {
        const phase = status().phase
        for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0)
        if (!(PHASES as readonly string[]).includes(phase)) this.set({ phase }, 1)
      },
    })
    new Gauge({
      name: 'bursar_enclave_ready',
      help: '1 when the enclave is connected and its state loaded (the host serves), else 0',
      registers: [this.registry],
      collect() {
        this.set(status().ready ? 1 : 0)
      },
    })
    new Gauge({
      name: 'bursar_state_version',
      help: 'The enclave state version (sealed snapshot counter) as of the newest stored entry or snapshot',
      registers: [this.registry],
      collect() {
        this.set(status().stateVersion ?? 0)
      },
    })
    new Gauge({
      name: 'bursar_audit_head_seq',
      help: 'Sequence number of the newest stored audit entry (-1: empty log)',
      registers: [this.registry],
      collect() {
        this.set(status().auditHead?.seq ?? -1)
      },
    })
    new Gauge({
      name: 'bursar_acked_audit_seq',
      help: 'The audit seq through which the host last told the enclave every entry is stored (catchUp ack; the enclave forgets what it covers)',
      registers: [this.registry],
      collect() {
        this.set(gateway.ackedThrough.through)
      },
    })
    new Gauge({
      name: 'bursar_acked_state_version',
      help: 'The newest stored snapshot version the host last told the enclave (catchUp ack)',
      registers: [this.registry],
      collect() {
        this.set(gateway.ackedThrough.version)
      },
    })
    const self = this
    new Gauge({
      name: 'bursar_snapshot_bytes',
      help: 'Size in bytes of the newest sealed state snapshot stored by this host process (0: none yet)',
      registers: [this.registry],
      collect() {
        this.set(self.snapshotBytes)
      },
    })
    new Gauge({
      name: 'bursar_pending_approvals',
      help: 'Open pending requests waiting for an owner decision, across all wallets (recounted after a change, else at most every 5 s)',
      registers: [this.registry],
      async collect() {
        const count = await self.countPending(gateway)
        if (count !== null) this.set(count)
      },
    })
    gateway.observer = this.observer()
  }

  private observer(): GatewayObserver {
    return {
      call: (type, seconds, res) => {
        this.enclave.observe({ type }, seconds)
        const code = res.ok ? 'ok' : res.error.code
        if (!res.ok) this.enclaveErrors.inc({ type, code })
        // A new pending request or an owner act (approve, reject, revoke…) changes the count: recount on the next scrape.
        if (type === 'ownerActDecision' || code === 'approval_pending') this.pending = null
        if (type !== 'agentSign') return
        const outcome = res.ok ? 'allowed' : code === 'approval_pending' ? 'pending' : 'denied'
        this.signatures.inc({ outcome, code })
      },
      persist: (seconds, _blocks, entries, snapshotBytes) => {
        if (storeTrace.hasSubscribers) storeTrace.publish({ step: 'commit', at: performance.now() - seconds * 1000, ms: seconds * 1000, entries, snapshotBytes })
        this.persistSeconds.observe(seconds)
        if (entries > 0) this.persistEntries.inc(entries)
        if (snapshotBytes > 0) this.snapshotBytes = snapshotBytes
      },
    }
  }

  private async countPending(gateway: EnclaveGateway): Promise<number | null> {
    if (this.pending && Date.now() - this.pending.at < PENDING_CACHE_MS) return this.pending.count
    if (!gateway.status.ready) return this.pending?.count ?? null
    const res = await gateway.call({ type: 'getWallets' }, 2_000).catch(() => null)
    if (!res?.ok) return this.pending?.count ?? null
    const now = Date.now()
    let count = 0
    for (const w of res.result.wallets) for (const p of w.pending) if (p.status === 'pending' && Number(p.expiresAt) > now) count++
    this.pending = { at: now, count }
    return count
  }
}

/**
 * Whether a scrape comes from this machine itself: a loopback peer whose request no proxy forwarded (a reverse proxy
 * on the same machine connects from loopback too, but for a remote client). rt36b: a proxy is any forwarding header
 * (Forwarded, Via, X-Forwarded-*, X-Real-IP, *-Client-IP, Cf-Connecting-Ip, X-Original-Forwarded-For: nginx's TLS
 * fronts often add only X-Forwarded-Proto, Varnish Via) or a Host that is not a loopback name (the public name passed
 * on); strangerScrapesMetricsThroughLocalProxy. A proxy that adds none and says Host 127.0.0.1 still looks local.
 */
export function localScrape(req: FastifyRequest): boolean {
  const ip = req.socket.remoteAddress ?? ''
  const loopback = ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')
  const host = req.headers.host
  return loopback && (host === undefined || LOOPBACK_HOST.test(host)) && !Object.keys(req.headers).some((h) => FORWARDING_HEADER.test(h))
}
const FORWARDING_HEADER = /^(?:forwarded|via|x-forwarded-.*|x-real-ip|x-original-forwarded-for|cf-connecting-ip|(?:x-|true-|x-cluster-|fastly-)?client-ip)$/
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i

/**
 * Registers GET /metrics and the per-request histogram. `token`: when set, scrapes must send
 * `Authorization: Bearer <token>` (BURSAR_METRICS_TOKEN); unset, only this machine scrapes (localScrape), anyone
 * else gets `metrics_token_unset` (403) — the numbers (payments allowed/denied per code, pending approvals, state
 * size) are the operator's, not the internet's (strangerScrapesMetrics).
 */
export function registerMetrics(app: FastifyInstance, metrics: HostMetrics, token: string | undefined): void {
  const expected = token ? digest(`Bearer ${token}`) : null
  app.addHook('onResponse', (req, reply, done) => {
    // The route pattern (never the raw URL: bounded label values); unmatched paths share one label.
    const route = req.routeOptions.url ?? 'unmatched'
    metrics.http.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        description: 'Signatures allowed/denied by code, pending approvals, latency per route and enclave round trip, persist latency, enclave phase, state size. With BURSAR_METRICS_TOKEN set, send Authorization: Bearer <token>; without it, only the host machine itself (loopback, not through a proxy) may scrape (403 metrics_token_unset otherwise).',
        ...(token ? { security: [{ metricsToken: [] }] } : {}),
      },
    },
    async (req, reply) => {
      if (expected && !sameDigest(req.headers.authorization ?? '', expected)) {
        const e = new BaseError('metrics_unauthorized', 'GET /metrics needs Authorization: Bearer <BURSAR_METRICS_TOKEN>')
        return reply.code(errorStatus(e.code)).send(e.toWire())
      }
      if (!expected && !localScrape(req)) {
        const e = new BaseError('metrics_token_unset', 'GET /metrics is served without a token to this machine only: set BURSAR_METRICS_TOKEN on the host and scrape with Authorization: Bearer <it>')
        return reply.code(errorStatus(e.code)).send(e.toWire())
      }
      const body = await metrics.registry.metrics()
      return reply.header('content-type', metrics.registry.contentType).send(body)
    },
  )
}
