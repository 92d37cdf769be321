/**
 * `make cluster`: PostgreSQL (installed with apt when missing, a throwaway cluster on a free loopback port) and
 * 3 host + simulated-enclave pairs on 8402–8404 sharing it (scale-out mode, docs/scale.md). Prints the URLs;
 * Ctrl-C stops everything. A pair that exits (e.g. a host that lost its lease) is restarted as a standby.
 * BURSAR_DATABASE_URL=postgres://… uses your own PostgreSQL instead; BURSAR_CLUSTER_PORTS=8402,8403,8404;
 * BURSAR_CLUSTER_LEASES=wallet runs per-wallet leases (every pair signs for its own wallets, docs/scale.md).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildEnclave } from './buildEnclave.js'
import { startCluster } from './lib/startCluster.js'
import { startPostgres } from './pg/ensurePostgres.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ports = (process.env.BURSAR_CLUSTER_PORTS ?? '8402,8403,8404').split(',').map(Number)
const verbose = process.env.BURSAR_CLUSTER_LOGS === '1'
const t0 = Date.now()
await buildEnclave({ quiet: true })
const pg = process.env.BURSAR_DATABASE_URL ? null : await startPostgres()
const databaseUrl = process.env.BURSAR_DATABASE_URL ?? pg!.url
const stopPg = () => pg?.stop()
process.on('exit', stopPg)
const cluster = await startCluster({
  databaseUrl,
  pairs: ports.length,
  ports,
  dataDir: path.resolve(process.env.BURSAR_DATA_DIR ?? path.join(root, 'data', 'cluster')),
  env: { BURSAR_AUDIT_AUTH: process.env.BURSAR_AUDIT_AUTH ?? 'open' },
  supervise: true,
  log: (s) => {
    if (verbose || /lease|exited|restart|error|fail/i.test(s)) process.stderr.write(`${s}\n`)
  },
}).catch((err: Error) => {
  console.error(err.message)
  stopPg()
  process.exit(1)
})
const perWallet = process.env.BURSAR_CLUSTER_LEASES === 'wallet'
if (perWallet) await cluster.waitReady(60_000)
const holder = perWallet ? null : await cluster.holder()
console.log(`
bursar cluster (SIMULATION, scale-out mode) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s

  PostgreSQL   ${databaseUrl}${pg ? '   (throwaway: removed on Ctrl-C)' : ''}
${cluster.pairs.map((p) => `  pair ${p.index + 1}       ${p.url}/   host pid ${p.host.pid}, enclave pid ${p.enclave.pid}   ${perWallet ? '(per-wallet leases: signs for its own wallets, forwards the others)' : p === holder?.pair ? '(holds the wallet group lease)' : '(standby: forwards to the holder)'}`).join('\n')}

  Any URL serves every request; see who holds the lease:  curl ${cluster.pairs[0]!.url}/v1/cluster
  Try a failover: kill -9 the holder's host and enclave pids; another pair takes over after the lease TTL (3 s)
  and the killed pair comes back as a standby (a pair is restarted whole whenever one of its processes exits).
  Audit reads are OPEN (simulation convenience); docs/scale.md explains leases, fencing and failover.

Ctrl-C stops all pairs and PostgreSQL.`)
let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await cluster.stop()
  stopPg()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
