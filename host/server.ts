/**
 * UNTRUSTED host entrypoint: storage + enclave gateway + HTTP API. Listens,
 * hands the enclave its state, and closes gracefully on SIGINT/SIGTERM.
 */
import path from 'node:path'
import { buildApp } from './app.js'
import { HostEnvSchema } from './config.js'
import type { EnclaveAddress } from './enclave/EnclaveClient.js'
import { EnclaveGateway } from './enclave/EnclaveGateway.js'
import { SqliteStore } from './storage/SqliteStore.js'
import { PendingWebhooks } from './webhooks/PendingWebhooks.js'
import { WebhookSettings } from './webhooks/WebhookSettings.js'
import type { Store } from './storage/Store.js'

const env = HostEnvSchema.parse(process.env)
const log = (line: string) => process.stderr.write(`[host] ${line}\n`)

function parseEnclave(spec: string): EnclaveAddress {
  if (spec.startsWith('unix:')) return { kind: 'unix', path: spec.slice(5) }
  const m = /^tcp:([^:]+):(\d+)$/.exec(spec)
  if (!m) {
    log(`BURSAR_ENCLAVE must be unix:/path or tcp:HOST:PORT, got ${spec}`)
    process.exit(2)
  }
  return { kind: 'tcp', host: m[1]!, port: Number(m[2]) }
}

async function openStore(): Promise<Store> {
  return new SqliteStore(path.join(env.BURSAR_DATA_DIR, 'bursar.db'))
}

const store = await openStore()
const gateway = new EnclaveGateway(parseEnclave(env.BURSAR_ENCLAVE), store, log, env.BURSAR_ENCLAVE_TIMEOUT_MS)
// The port is known only after listen (BURSAR_PORT=0): links are built lazily from this.
let publicUrl = env.BURSAR_PUBLIC_URL ?? `http://${env.BURSAR_BIND}:${env.BURSAR_PORT}`
const webhookSettings = new WebhookSettings(path.join(env.BURSAR_DATA_DIR, 'webhooks.json'))
const webhooks = new PendingWebhooks({
  gateway,
  urls: env.BURSAR_WEBHOOKS,
  settings: webhookSettings,
  get publicUrl() {
    return publicUrl
  },
  backoffMs: env.BURSAR_WEBHOOK_BACKOFF_MS,
  maxAttempts: env.BURSAR_WEBHOOK_MAX_ATTEMPTS,
  log,
})
const corsOrigins = env.BURSAR_CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean)
const app = await buildApp({ gateway, store, auditToken: env.BURSAR_AUDIT_TOKEN, auditAuth: env.BURSAR_AUDIT_AUTH, corsOrigins, webhooks, webhookSettings, allowHttpWebhooks: env.BURSAR_WEBHOOK_ALLOW_HTTP === '1' })
app.server.keepAliveTimeout = 65_000
app.server.requestTimeout = 30_000
await app.listen({ port: env.BURSAR_PORT, host: env.BURSAR_BIND })
const addr = app.server.address()
const port = typeof addr === 'object' && addr ? addr.port : env.BURSAR_PORT
log(`listening on http://${env.BURSAR_BIND}:${port}`)
if (!env.BURSAR_PUBLIC_URL) publicUrl = `http://${env.BURSAR_BIND}:${port}`
process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`)
gateway.start(120_000).catch((err: Error) => log(`enclave not ready: ${err.message}`))

let closing = false
const shutdown = async () => {
  if (closing) return
  closing = true
  const force = setTimeout(() => process.exit(1), 5_000)
  force.unref()
  await app.close()
  gateway.close()
  await store.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
