/**
 * UNTRUSTED: the host's HTTP API as a fastify plugin tree. Routes forward to
 * the enclave and store what it says to store; nothing here decides policy.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance } from 'fastify'
import { type ZodTypeProvider, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { BaseError } from '../shared/errors/base.js'
import type { EnclaveGateway } from './enclave/EnclaveGateway.js'
import { hostLogging, registerRequestLogging } from './logging.js'
import { HostMetrics, registerMetrics } from './metrics.js'
import { completeOpenApi } from './openapi.js'
import { errorStatus } from './plugins/errorStatus.js'
import { ownerReadGuard } from './plugins/ownerReadGuard.js'
import { agentRoutes } from './routes/agent.js'
import { agentReadRoutes } from './routes/agentReads.js'
import { attestationRoutes } from './routes/attestation.js'
import { auditRoutes } from './routes/audit.js'
import { healthRoutes } from './routes/health.js'
import { ownerRoutes } from './routes/owner.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { operatorRoutes } from './routes/operator.js'
import { corsHook } from './plugins/corsHook.js'
import type { PendingWebhooks } from './webhooks/PendingWebhooks.js'
import type { WebhookSettings } from './webhooks/WebhookSettings.js'
import type { Store } from './storage/Store.js'
import type { LeaseKeeper } from './cluster/LeaseKeeper.js'
import { clusterForwardHook, clusterRoutes } from './cluster/forward.js'
import { walletClusterRoutes, walletForwardHook } from './cluster/forwardByWallet.js'
import type { WalletLeaseKeeper } from './cluster/WalletLeaseKeeper.js'

export type BuildAppParameters = {
  gateway: EnclaveGateway
  store: Store
  auditToken?: string | undefined
  /** Audit read access: 'owner' (default: owner read tokens, or the operator's auditToken) or 'open'. */
  auditAuth?: 'owner' | 'open' | undefined
  /** Rows one audit entries query reads at most (audit39; default DEFAULT_AUDIT_SCAN_ROWS). */
  auditScanRows?: number | undefined
  logger?: boolean
  /** Origins allowed to call the API from a browser (a console run from a local copy): '*' or a list; none by default. */
  corsOrigins?: readonly string[] | undefined
  /** Pending-approval webhooks (host/webhooks/PendingWebhooks.ts) and the owners' signed settings for them. */
  webhooks?: PendingWebhooks | undefined
  webhookSettings?: WebhookSettings | undefined
  /** Accept http:// webhook URLs from owners (BURSAR_WEBHOOK_ALLOW_HTTP=1). */
  allowHttpWebhooks?: boolean | undefined
  /** The host's pino logger and request ids (host/logging.ts); default: no logging (tests). */
  logging?: ReturnType<typeof hostLogging> | undefined
  /** Serve GET /metrics (host/metrics.ts); BURSAR_METRICS_TOKEN, when set, is required as a bearer token; unset, only loopback scrapes are served. */
  metrics?: { token?: string | undefined } | undefined
  /** The origins owner read tokens must name (their audience): this host's public URL(s); default none (owner tokens refused). */
  readOrigins?: (() => readonly string[]) | undefined
  /** Scale-out mode: requests are forwarded to the lease holder unless this host holds it (docs/scale.md). */
  cluster?: { keeper: LeaseKeeper; node: string } | undefined
  /** Scale-out mode with per-wallet leases: a request naming a wallet held elsewhere is forwarded to its holder. */
  walletCluster?: { keeper: WalletLeaseKeeper; node: string } | undefined
}

export async function buildApp(params: BuildAppParameters): Promise<FastifyInstance> {
  const app = (
    params.logging ? Fastify({ ...params.logging, bodyLimit: 1024 * 1024 }) : Fastify({ logger: params.logger ?? false, bodyLimit: 1024 * 1024 })
  ).withTypeProvider<ZodTypeProvider>()
  if (params.logging) registerRequestLogging(app)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, {
    openapi: { info: { title: 'bursar host API', version: '0.1.0', description: 'Untrusted host in front of the bursar signing enclave' } },
    transform: jsonSchemaTransform,
    transformObject: (d) => ('openapiObject' in d ? completeOpenApi(d.openapiObject as Parameters<typeof completeOpenApi>[0]) : d.swaggerObject) as never,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { validation?: unknown; statusCode?: number; code?: string }
    if (e.validation) return reply.code(400).send({ code: 'request_invalid', message: e.message.slice(0, 300) })
    if (err instanceof BaseError) return reply.code(errorStatus(err.code)).send(err.toWire())
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ code: 'request_invalid', message: e.message })
    req.log.error({ err }, 'unhandled error')
    // SECURITY: no 5xx detail leaves the host.
    return reply.code(500).send({ code: 'internal_error', message: 'Internal error' })
  })
  // CORS first: a preflight is answered here, and forwarded answers keep the headers.
  if (params.corsOrigins?.length) corsHook(app, params.corsOrigins)
  if (params.metrics) registerMetrics(app, new HostMetrics(params.gateway), params.metrics.token)
  if (params.cluster) {
    app.addHook('onRequest', clusterForwardHook(params.cluster.keeper, params.cluster.node))
    await app.register(clusterRoutes(params.cluster.keeper, params.cluster.node))
  }
  if (params.walletCluster) {
    app.addHook('preParsing', walletForwardHook(params.walletCluster.keeper, params.walletCluster.node))
    const operator = ownerReadGuard({ mode: 'owner', operatorToken: params.auditToken })
    await app.register(walletClusterRoutes(params.walletCluster.keeper, async (req) => {
      const r = await operator(req)
      return 'kind' in r && r.kind === 'all'
    }))
  }
  await app.register(healthRoutes(params.gateway))
  // Owner reads (console wallets): owner read tokens always, whatever BURSAR_AUDIT_AUTH says.
  await app.register(ownerRoutes(params.gateway, ownerReadGuard({ mode: 'owner', operatorToken: params.auditToken, origins: params.readOrigins }), params.webhookSettings, params.allowHttpWebhooks))
  await app.register(agentRoutes(params.gateway, params.store, params.webhooks))
  await app.register(agentReadRoutes(params.gateway, params.store, params.auditScanRows))
  await app.register(attestationRoutes(params.gateway))
  await app.register(
    auditRoutes(params.store, params.gateway, ownerReadGuard({ mode: params.auditAuth ?? 'owner', operatorToken: params.auditToken, origins: params.readOrigins }), params.auditScanRows),
  )
  // Operator acts (issue 15 step 3): the operator's bearer token only, in every audit mode.
  await app.register(operatorRoutes(params.gateway, ownerReadGuard({ mode: 'owner', operatorToken: params.auditToken })))
  await app.register(dashboardRoutes())
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  return app
}
