import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from './enclaveLaunch.js'
import { packageRoot } from './packageRoot.js'
import { AGENT_CLOCK_AHEAD_MS } from '../../shared/schemas/agentRequest.js'
import { signalGroup, spawnReaped } from './spawnReaped.js'

export const repoRoot = packageRoot(import.meta.url)

/**
 * When this process last saw an enclave or host it spawned listen (startStack: enclave and host, startCluster:
 * enclaves; Date.now, 0 = never). Both take their start time before they listen, and both date agent requests by it:
 * the enclave refuses requests issued before its start + 2 s (replay floor), a SQLite host looks up only requests
 * issued before its start + 2 s. So start + 2 s ≤ this + 2 s: test/helpers/agentClient.ts's waitAgentFloor waits
 * from here, not a fixed 2.1 s after the whole setup (wallet, agent, policy) that followed.
 */
export const lastListening = { at: 0, floorAt: 0 }

/**
 * floor40b: where lastListening.floorAt stands. `floorAt` is the latest (listen time + that stack's agent start floor
 * distance) over the enclaves and hosts this process started: 2 s (the production floor, and a SQLite host's lookup
 * skip) unless the stack was started with agentFloor 'test' (the enclave's floor at its start: sim/main.sim.ts
 * BURSAR_SIM_AGENT_START_FLOOR_MS=0). waitAgentFloor waits from it.
 *
 * hang41: `floorAt` is on performance.now(), a clock no test moves, not Date.now. test/helpers/simClock.ts moves this
 * process's Date.now minutes ahead (time locks) and its files restart enclaves there; a floor dated on that clock was
 * kept by the max after the file restored Date.now, so in a worker shared by many files (the adversarial and stacks
 * projects are not isolated) every later waitAgentFloor slept the whole offset (300 s after
 * refusedOwnerActAppliesHeldActUnaudited) and its set-up hit "Hook timed out". Elapsed time since the listen is what
 * the floor needs: a moved clock only moves forward, and moves the simulated enclave's clock with it.
 */
export function listened(floorMs: number): void {
  lastListening.at = Date.now()
  lastListening.floorAt = Math.max(lastListening.floorAt, performance.now() + floorMs)
}

/**
 * How long waitAgentFloor(ms) (test/helpers/agentClient.ts) still waits: until `ms` − 2 s after floorAt (`ms` is
 * counted as under the production floor), `ms` when nothing listened yet, 0 once past.
 */
export function agentFloorWaitMs(ms: number): number {
  const wait = lastListening.at > 0 ? lastListening.floorAt + ms - AGENT_CLOCK_AHEAD_MS - performance.now() : ms
  return Math.max(0, wait)
}

export type Stack = {
  url: string
  dataDir: string
  socketPath: string
  /** The operator/auditor token the host was started with (BURSAR_AUDIT_TOKEN): `Authorization: Bearer <it>` reads the whole audit log. */
  auditToken: string
  enclave: ChildProcess
  host: ChildProcess
  logs: string[]
  stopEnclave(): Promise<void>
  startEnclave(): Promise<void>
  stopHost(): Promise<void>
  startHost(): Promise<void>
  waitReady(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * BURSAR_TEST_STORE=postgres: every stack stores in PostgreSQL (one throwaway cluster per test process, one database
 * per data dir, so a stack restarted on the same data dir finds its state) instead of SQLite — the scale-out store
 * under the whole integration suite (docs/scale.md).
 */
const pgDatabases = new Map<string, string>()
let pgCluster: Promise<{ url: string }> | null = null
async function databaseFor(dataDir: string): Promise<string> {
  const known = pgDatabases.get(dataDir)
  if (known) return known
  const { startPostgres } = await import('../pg/ensurePostgres.js')
  pgCluster ??= startPostgres()
  const { url } = await pgCluster
  const { default: pg } = await import('pg')
  const name = `s_${randomBytes(6).toString('hex')}`
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(`CREATE DATABASE ${name}`)
  await c.end()
  const db = url.replace(/\/postgres$/, `/${name}`)
  pgDatabases.set(dataDir, db)
  return db
}

/** Starts a real simulated enclave + host (built bundles from dist/) on a temp data dir and a free port. */
export async function startStack(
  opts: {
    dataDir?: string
    env?: Record<string, string>
    /** Extra node flags for both processes, e.g. ['--cpu-prof']. */ nodeArgs?: string[]
    /** Extra node flags for the enclave only, e.g. V8 heap limits. */ enclaveNodeArgs?: string[]
    /** false: the enclave without the launchers' memory settings (scripts/lib/enclaveLaunch.ts), for a before/after. */ launchDefaults?: boolean
    /** The host's port (default: a free one). */ port?: number
    /** Where dist/ is (default: this checkout); e.g. an installed package's node_modules/bursar. */ root?: string
    /**
     * floor40b: 'test' = the simulated enclave's agent start floor at its start (BURSAR_SIM_AGENT_START_FLOOR_MS=0), so
     * requests need not wait 2 s after it; default 'production' (start + 2 s), which the floor's own tests keep.
     */
    agentFloor?: 'production' | 'test'
  } = {},
): Promise<Stack> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'bursar-'))
  const socketPath = path.join(dataDir, 'enclave.sock')
  const logs: string[] = []
  let port = opts.port ?? 0
  const env = {
    ...process.env,
    BURSAR_DATA_DIR: dataDir,
    BURSAR_ENCLAVE_LISTEN: `unix:${socketPath}`,
    BURSAR_ENCLAVE: `unix:${socketPath}`,
    // Audit reads stay owner-authenticated (the host default); the caller gets a fresh operator token to read everything.
    BURSAR_AUDIT_TOKEN: `bat_${randomBytes(24).toString('hex')}`,
    ...(process.env.BURSAR_TEST_STORE === 'postgres' && !opts.env?.BURSAR_DATABASE_URL ? { BURSAR_DATABASE_URL: await databaseFor(dataDir) } : {}),
    // The host logs one JSON line per request at info; harness stacks (tests, bench, devchain) keep warnings and
    // errors only, so `logs` stays small under load and the bench measures what it measured before logging.
    BURSAR_LOG_LEVEL: process.env.BURSAR_LOG_LEVEL ?? 'warn',
    ...(opts.agentFloor === 'test' ? { BURSAR_SIM_AGENT_START_FLOOR_MS: '0' } : {}),
    ...opts.env,
  }
  const floorMs = env.BURSAR_SIM_AGENT_START_FLOOR_MS === undefined ? AGENT_CLOCK_AHEAD_MS : Number(env.BURSAR_SIM_AGENT_START_FLOOR_MS)
  const spawnNode = (file: string, extra: Record<string, string>, args: string[] = []) => {
    // Dies with this process, however it ends (scripts/lib/spawnReaped.ts): a test that times out leaks nothing.
    const c = spawnReaped(process.execPath, [...(opts.nodeArgs ?? []), ...args, path.join(opts.root ?? repoRoot, file)], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
    c.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
    return c
  }
  const stack: Stack = {
    url: '',
    dataDir,
    socketPath,
    auditToken: env.BURSAR_AUDIT_TOKEN,
    enclave: null as unknown as ChildProcess,
    host: null as unknown as ChildProcess,
    logs,
    async startEnclave() {
      // The launchers' memory settings (scripts/lib/enclaveLaunch.ts); a variable already in the environment wins.
      const bare = opts.launchDefaults === false
      const launchEnv = bare ? {} : Object.fromEntries(Object.entries(ENCLAVE_ENV).filter(([k]) => !(k in env)))
      // rt33b: only this enclave's own line counts (stop() keeps the logs: a restart after it saw the old enclave's line,
      // returned at once and dated lastListening before this enclave started, so waitAgentFloor could end too early).
      const mark = logs.length
      stack.enclave = spawnNode('dist/enclave.sim.mjs', launchEnv, [...(bare ? [] : ENCLAVE_NODE_FLAGS), ...(opts.enclaveNodeArgs ?? [])])
      // An enclave that exits before listening (e.g. EADDRINUSE on a tcp: port) fails the start at once, with its
      // whole log ('close': after its stderr ended).
      let closed = false
      stack.enclave.once('close', () => (closed = true))
      await waitFor(
        () => {
          if (logs.slice(mark).join('').includes('enclave listening')) {
            listened(floorMs)
            return true
          }
          if (closed) throw new Error(`the enclave exited before listening\n${logs.join('').slice(-3000)}`)
          return false
        },
        20_000,
        'enclave listening',
        logs,
      )
    },
    async stopEnclave() {
      await kill(stack.enclave)
      logs.length = 0
    },
    async startHost() {
      stack.host = spawnNode('dist/host.mjs', { BURSAR_PORT: String(port) })
      const listening = new Promise<number>((resolve) => {
        stack.host.stdout!.on('data', (d: Buffer) => {
          const m = /"port":(\d+)/.exec(d.toString())
          if (m) resolve(Number(m[1]))
        })
      })
      port = await withTimeout(listening, 20_000, 'host listening', logs)
      // A SQLite host looks up requests issued before its start + 2 s: a stack with the test floor does not wait for that.
      listened(floorMs)
      stack.url = `http://127.0.0.1:${port}`
    },
    async stopHost() {
      await kill(stack.host)
    },
    async waitReady(timeoutMs = 20_000) {
      await waitFor(async () => (await fetch(`${stack.url}/readyz`).catch(() => null))?.ok === true, timeoutMs, 'readyz', logs)
    },
    async stop() {
      await Promise.all([kill(stack.host), kill(stack.enclave)])
    },
  }
  try {
    await stack.startEnclave()
    await stack.startHost()
    await stack.waitReady()
  } catch (err) {
    await stack.stop() // never leak a spawned process when start-up fails
    throw err
  }
  return stack
}

async function kill(c: ChildProcess | null): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve())
    c.kill('SIGTERM')
    setTimeout(() => signalGroup(c, 'SIGKILL'), 3_000).unref()
  })
}

export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string, logs: string[] = []) {
  const until = Date.now() + timeoutMs
  // Each check is bounded too (a fetch to a stopped process would otherwise hang the wait past its timeout).
  while (!(await withTimeout(Promise.resolve(fn()), Math.max(until - Date.now(), 0) + 1_000, what, logs))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${logs.join('').slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string, logs: string[]): Promise<T> {
  let t: NodeJS.Timeout
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out waiting for ${what}\n${logs.join('').slice(-3000)}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(t))
}
