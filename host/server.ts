/**
 * UNTRUSTED host entrypoint: storage + enclave gateway + HTTP API. Listens,
 * hands the enclave its state, and closes gracefully on SIGINT/SIGTERM.
 */
import { hostname } from 'node:os'
import path from 'node:path'
import { LeaseKeeper } from './cluster/LeaseKeeper.js'
import { WalletLeaseKeeper } from './cluster/WalletLeaseKeeper.js'
import { chainForWalletMode, gatewayLeaseOf, walletHostOf } from './cluster/walletMode.js'
import { buildApp } from './app.js'
import { hostLogging } from './logging.js'
import { HostEnvSchema } from './config.js'
import type { EnclaveAddress } from './enclave/EnclaveClient.js'
import { EnclaveGateway } from './enclave/EnclaveGateway.js'
import { SqliteStore } from './storage/SqliteStore.js'
import type { PostgresStore } from './storage/PostgresStore.js'
import { PendingWebhooks } from './webhooks/PendingWebhooks.js'
import { WebhookSettings } from './webhooks/WebhookSettings.js'
import type { Store } from './storage/Store.js'
import { governanceAddressOf } from '../shared/governance/governanceProtocol.js'

const env = HostEnvSchema.parse(process.env)
// Until the app's pino logger exists, lines go to stderr as text; then as JSON lines through it (host/logging.ts).
let logLine: (line: string) => void = (line: string) => process.stderr.write(`[host] ${line}\n`)
const log = (line: string) => logLine(line)

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
  if (env.BURSAR_DATABASE_URL) {
    // Loaded only in PostgreSQL mode: the SQLite default pays nothing for it.
    const { PostgresStore } = await import('./storage/PostgresStore.js')
    return PostgresStore.open(env.BURSAR_DATABASE_URL, { group: env.BURSAR_CLUSTER_GROUP })
  }
  return new SqliteStore(path.join(env.BURSAR_DATA_DIR, 'bursar.db'))
}

const store = await openStore()
/** Scale-out mode (PostgreSQL): a lease per wallet group; the URL is known once listening. */
let keeper: LeaseKeeper | undefined
let walletKeeper: WalletLeaseKeeper | undefined
let node = env.BURSAR_CLUSTER_NODE ?? ''
/** Crash-only: this enclave's state may be behind the new holder's; the supervisor restarts the pair. */
const exitLost = () => {
  log('exiting: lease lost (restart this host and its enclave together)')
  setTimeout(() => process.exit(75), 50)
}
/** Per-wallet mode: the chain this pair's enclave writes (its own, or the root one when it starts the lineage). */
let chain: '' | 'own' = ''
if (store.kind === 'postgres' && env.BURSAR_CLUSTER_LEASES === 'wallet') {
  chain = await chainForWalletMode(store as PostgresStore, node || `${hostname()}:${process.pid}`, log)
  walletKeeper = new WalletLeaseKeeper({
    store: store as PostgresStore,
    node: '',
    url: '',
    ttlMs: env.BURSAR_LEASE_TTL_MS,
    host: { waitReady: () => gatewayReady(), loadWallet: (w) => walletHost.loadWallet(w), dropWallet: (w) => walletHost.dropWallet(w), wallets: () => walletHost.wallets() },
    log,
    onlyDatabaseFencing: env.BURSAR_TEST_ONLY_DB_FENCING === '1',
    onLost: exitLost,
  })
// Issue 15 step 4: a pair on a chain of its own (BURSAR_CHAIN) is not one of a group's lease holders (chains15).
} else if (store.kind === 'postgres' && !env.BURSAR_CHAIN) {
  keeper = new LeaseKeeper({
    store: store as PostgresStore,
    group: env.BURSAR_CLUSTER_GROUP,
    node: '',
    url: '',
    ttlMs: env.BURSAR_LEASE_TTL_MS,
    log,
    onlyDatabaseFencing: env.BURSAR_TEST_ONLY_DB_FENCING === '1',
    onLost: () => {
      // Crash-only: this enclave's state may be behind the new holder's; the supervisor restarts the pair as a standby.
      log('exiting: lease lost (restart this host and its enclave together)')
      setTimeout(() => process.exit(75), 50)
    },
  })
}
const gateway = new EnclaveGateway(parseEnclave(env.BURSAR_ENCLAVE), store, log, env.BURSAR_ENCLAVE_TIMEOUT_MS, walletKeeper ? gatewayLeaseOf(walletKeeper) : keeper, {
  chain: walletKeeper ? chain : env.BURSAR_CHAIN,
  governance: parseEnclave(env.BURSAR_GOVERNANCE ?? governanceAddressOf(env.BURSAR_ENCLAVE)),
})
const walletHost = walletHostOf(gateway)
const gatewayReady = () => walletHost.waitReady()
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
  checkOwnerTargets: env.BURSAR_WEBHOOK_ALLOW_HTTP !== '1',
  log,
})
/**
 * The origins owner read tokens may name here (the token's audience). SECURITY: from the operator's configuration
 * and the bound address only, never from the request (its Host header is the client's to choose).
 */
const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'])
let readOrigins: string[] = []
const setReadOrigins = (port: number) => {
  // This listening socket's own names: the public URL, the bound address, and on a loopback or wildcard bind the
  // loopback names of this port (only this machine reaches those, and only this process listens on the port).
  // SECURITY: not when a public URL that is not loopback names this host: then `http://localhost:<port>` is every
  // machine's localhost (a token signed for another local host on that port), and requests through a same-machine
  // proxy all come from loopback (test/adversarial/localhostReadTokenReplayedToPublicHost).
  const publicHost = env.BURSAR_PUBLIC_URL ? new URL(env.BURSAR_PUBLIC_URL).hostname : null
  const publicIsLoopback = publicHost === null || LOOPBACK_BINDS.has(publicHost.replace(/^\[|\]$/g, ''))
  const own = [
    ...(env.BURSAR_PUBLIC_URL ? [new URL(env.BURSAR_PUBLIC_URL).origin] : []),
    ...(LOOPBACK_BINDS.has(env.BURSAR_BIND)
      ? publicIsLoopback
        ? [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]
        : []
      : [new URL(`http://${env.BURSAR_BIND.includes(':') ? `[${env.BURSAR_BIND}]` : env.BURSAR_BIND}:${port}`).origin]),
  ]
  readOrigins = [...new Set([...own, ...env.BURSAR_READ_ORIGINS])]
}
setReadOrigins(env.BURSAR_PORT)
const corsOrigins = env.BURSAR_CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean)
const app = await buildApp({
  gateway,
  store,
  auditToken: env.BURSAR_AUDIT_TOKEN,
  auditAuth: env.BURSAR_AUDIT_AUTH,
  auditScanRows: env.BURSAR_AUDIT_SCAN_ROWS,
  logging: hostLogging(env.BURSAR_LOG_LEVEL),
  metrics: { token: env.BURSAR_METRICS_TOKEN },
  cluster: keeper ? { keeper, get node() { return node } } : undefined,
  walletCluster: walletKeeper ? { keeper: walletKeeper, get node() { return node } } : undefined,
  corsOrigins,
  webhooks,
  webhookSettings,
  allowHttpWebhooks: env.BURSAR_WEBHOOK_ALLOW_HTTP === '1',
  readOrigins: () => readOrigins,
})
logLine = (line: string) => app.log.info({ component: 'gateway' }, line)
app.server.keepAliveTimeout = 65_000
app.server.requestTimeout = 30_000
await app.listen({ port: env.BURSAR_PORT, host: env.BURSAR_BIND })
const addr = app.server.address()
const port = typeof addr === 'object' && addr ? addr.port : env.BURSAR_PORT
log(`listening on http://${env.BURSAR_BIND}:${port}`)
if (!env.BURSAR_PUBLIC_URL) publicUrl = `http://${env.BURSAR_BIND}:${port}`
setReadOrigins(port)
process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`)
if (keeper) {
  node ||= `${hostname()}:${port}`
  keeper.opts.node = node
  keeper.opts.url = env.BURSAR_PUBLIC_URL ?? `http://${env.BURSAR_BIND}:${port}`
  keeper.start()
  log(`scale-out mode: node ${node}, wallet group ${env.BURSAR_CLUSTER_GROUP}, lease ttl ${env.BURSAR_LEASE_TTL_MS} ms`)
}
if (walletKeeper) {
  node ||= `${hostname()}:${port}`
  walletKeeper.opts.node = node
  walletKeeper.opts.url = env.BURSAR_PUBLIC_URL ?? `http://${env.BURSAR_BIND}:${port}`
  walletKeeper.start()
  log(`scale-out mode, per-wallet leases: node ${node}, ${chain === '' ? 'root chain (starts the lineage)' : 'own chain'}, lease ttl ${env.BURSAR_LEASE_TTL_MS} ms`)
}
gateway.start(keeper || walletKeeper ? 2 ** 31 - 1 : 120_000).catch((err: Error) => log(`enclave not ready: ${err.message}`))

let closing = false
const shutdown = async () => {
  if (closing) return
  closing = true
  const force = setTimeout(() => process.exit(1), 5_000)
  force.unref()
  await keeper?.stop()
  await walletKeeper?.stop()
  await app.close()
  gateway.close()
  await store.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
