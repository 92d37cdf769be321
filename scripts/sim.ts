/**
 * `make sim`: builds if needed, starts the simulated enclave and the host
 * with the embedded SQLite storage, waits until ready, prints where to go.
 * Ctrl-C stops both.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { ensureBundles } from './buildEnclave.js'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from './lib/enclaveLaunch.js'
import { packageRoot } from './lib/packageRoot.js'
import { pipePretty } from './lib/prettyHostLog.js'

const root = packageRoot(import.meta.url)
const dataDir = path.resolve(process.env.BURSAR_DATA_DIR ?? path.join(root, 'data'))
const port = Number(process.env.BURSAR_PORT ?? 8402)
mkdirSync(dataDir, { recursive: true })

if (process.env.BURSAR_MODE === 'nitro' && !process.env.BURSAR_KMS_ENDPOINT) {
  console.error('BURSAR_MODE=nitro needs BURSAR_KMS_ENDPOINT (and BURSAR_KMS_KEY_ID): in simulation it runs the KMS sealing path with the simulated NSM. On AWS, see docs/nitro.md.')
  process.exit(2)
}
const t0 = Date.now()
await ensureBundles(undefined, { rebuild: true })
// The owner console (dist/console): rebuilt only when its sources changed, and only from a source checkout (an
// installed package without console/ serves what it ships, else the read-only page).
if (existsSync(path.join(root, 'console', 'vite.config.ts'))) {
  const { buildConsole } = await import('./buildConsole.js')
  await buildConsole({ quiet: true })
}
const sock = path.join(dataDir, 'enclave.sock')
// Simulation convenience: audit reads open to anyone on loopback unless BURSAR_AUDIT_AUTH=owner is set (the host's own default).
const auditAuth = process.env.BURSAR_AUDIT_AUTH ?? 'open'
const env = {
  ...process.env,
  BURSAR_DATA_DIR: dataDir,
  BURSAR_ENCLAVE_LISTEN: `unix:${sock}`,
  BURSAR_ENCLAVE: `unix:${sock}`,
  BURSAR_PORT: String(port),
  BURSAR_AUDIT_AUTH: auditAuth,
  // A console run from a local copy (console/README.md) may call this loopback host.
  BURSAR_CORS_ORIGINS: process.env.BURSAR_CORS_ORIGINS ?? '*',
  // Owners may point approval webhooks at a local http receiver while trying things out.
  BURSAR_WEBHOOK_ALLOW_HTTP: process.env.BURSAR_WEBHOOK_ALLOW_HTTP ?? '1',
}
const children: ChildProcess[] = []
// The host logs JSON lines (host/logging.ts); here they are shown one readable line each (BURSAR_LOG_FORMAT=json keeps JSON).
const pretty = process.env.BURSAR_LOG_FORMAT !== 'json'
const start = (name: string, file: string) => {
  const c = spawn(process.execPath, [...(name === 'enclave' ? ENCLAVE_NODE_FLAGS : []), path.join(root, file)], { env: name === 'enclave' ? { ...ENCLAVE_ENV, ...env } : env, stdio: ['ignore', 'ignore', name === 'host' && pretty ? 'pipe' : 'inherit'] })
  if (c.stderr) pipePretty(c.stderr, process.stderr)
  c.on('exit', (code, sig) => {
    if (!stopping) {
      console.error(`${name} exited (${code ?? sig}); stopping`)
      stop(1)
    }
  })
  children.push(c)
  return c
}
let stopping = false
const stop = (code = 0) => {
  stopping = true
  for (const c of children) c.kill('SIGTERM')
  setTimeout(() => process.exit(code), 300).unref()
}
process.on('SIGINT', () => stop(0))
process.on('SIGTERM', () => stop(0))

start('enclave', 'dist/enclave.sim.mjs')
start('host', 'dist/host.mjs')
const url = `http://127.0.0.1:${port}`
for (;;) {
  const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false)
  if (ok) break
  if (Date.now() - t0 > 60_000) {
    console.error('bursar did not become ready in 60 s; see the logs above')
    stop(1)
  }
  await new Promise((r) => setTimeout(r, 100))
}
// The simulated NSM writes its PKI (and the root PEM the commands below name) on the first attestation: ask once now,
// so `bursar attestation fetch --root …` works the first time it is pasted.
await fetch(`${url}/v1/attestation?nonce=${'00'.repeat(32)}`).then((r) => r.arrayBuffer(), () => undefined)
console.log(`
bursar is running in SIMULATION mode (not secure: local sealing key, simulation attestation CA)  [ready in ${((Date.now() - t0) / 1000).toFixed(1)} s]

  owner console     ${url}/   (sign in with your browser wallet)
  API               ${url}/v1/…
  OpenAPI docs      ${url}/docs
  metrics           curl ${url}/metrics        (Prometheus; host logs below, JSON with BURSAR_LOG_FORMAT=json)
  readiness         curl ${url}/readyz
  data              ${dataDir}

Try next (in another terminal):
  npx bursar demo                                   # local chain + paid x402 API + agent, end to end
  npx bursar owner wallet create --host ${url}      # owner key from BURSAR_OWNER_KEY or ~/.bursar/owner.key
  npx bursar attestation fetch --host ${url} --root ${path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')}
  npx bursar audit verify --host ${url} --root ${path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')}
  npx bursar audit query --host ${url}              # your wallets' decisions (owner key)
  npx bursar owner wallet list --host ${url}        # your wallets (read with a token your key signs for this host)
  curl -H "Authorization: Bursar-Owner $(npx bursar audit token --host ${url})" ${url}/v1/wallets
${
  auditAuth === 'open'
    ? `
NOTE: audit reads are OPEN here (BURSAR_AUDIT_AUTH=open, set by make sim for convenience): anyone who can reach
${url} reads every decision. A real host runs with the default BURSAR_AUDIT_AUTH=owner: owners send a read token
(npx bursar audit token --host ${url}), the operator/auditor sends Authorization: Bearer <BURSAR_AUDIT_TOKEN>.
Wallet views (GET /v1/wallets, owners, policies, pending requests) always need a read token, even here.
`
    : `
Audit reads need credentials (BURSAR_AUDIT_AUTH=owner): owners use their key (npx bursar audit query / npx bursar audit token --host ${url});
the operator/auditor sends Authorization: Bearer <BURSAR_AUDIT_TOKEN>${process.env.BURSAR_AUDIT_TOKEN ? ' (as set in your environment)' : ' (none set: export BURSAR_AUDIT_TOKEN before make sim)'}.
`
}
Ctrl-C stops both processes.`)
