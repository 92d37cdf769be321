/**
 * Scale-out mode launcher (`make cluster`, test/cluster): N host + simulated-enclave pairs sharing one PostgreSQL.
 * The simulated enclaves share one data folder (the simulation sealing key and PKI: in Nitro every enclave of the
 * cluster gets the same KMS key by attestation), each listens on its own socket; each host talks to its own enclave
 * and holds or waits for the wallet group's lease. With `supervise`, a pair whose host or enclave exits (e.g. a
 * host that lost its lease) is restarted whole, as a standby with a fresh enclave.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from './enclaveLaunch.js'
import { freePort, isAddrInUse } from './freePort.js'
import { listened, repoRoot, waitFor } from './startStack.js'
import { AGENT_CLOCK_AHEAD_MS } from '../../shared/schemas/agentRequest.js'
import { signalGroup, spawnReaped } from './spawnReaped.js'

export type ClusterPair = {
  index: number
  /** The wallet group this pair serves. */
  group: string
  url: string
  port: number
  enclave: ChildProcess
  host: ChildProcess
  /** stderr of every generation of this pair's processes (the newest 1,000–2,000 chunks). */
  logs: string[]
  /** Starts (or restarts) the enclave, then the host. */
  start(): Promise<void>
  /** Starts the host alone again (after it exited; its enclave kept running). */
  startHost(): Promise<void>
  /** Sends a signal to both processes (host first). */
  signal(sig: NodeJS.Signals): void
  /** Stops both (SIGTERM, then SIGKILL) and waits for them to exit. */
  stop(): Promise<void>
  /** Resolves when both processes have exited; rejects after `timeoutMs` (30 s) otherwise. */
  exited(timeoutMs?: number): Promise<void>
}

export type Cluster = {
  pairs: ClusterPair[]
  dataDir: string
  auditToken: string
  databaseUrl: string
  /** The pair whose host holds the lease right now (asks each live host's /v1/cluster). */
  holder(): Promise<{ pair: ClusterPair; epoch: number } | null>
  waitReady(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

type ClusterOptions = {
  databaseUrl: string
  pairs?: number
  /** Fixed host ports (make cluster: 8402–8404); default: free ports. */
  ports?: number[]
  dataDir?: string
  env?: Record<string, string>
  /**
   * Wallet groups (docs/scale.md): pair i serves groups[i % groups.length], each group in its own schema of the one
   * database. Default: every pair serves the group `default` (one holder, the others stand by).
   */
  groups?: string[]
  supervise?: boolean
  log?: (line: string) => void
}

/**
 * Starts the cluster. Its hosts are told their ports in advance (each must know every URL), picked free just before:
 * another test file (two run at a time) or an outgoing connection may take one meanwhile. A start that fails on
 * EADDRINUSE is stopped whole and retried on fresh ports (not with fixed `ports`: those are the caller's).
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(opts)
    } catch (err) {
      if (opts.ports || attempt >= 4 || !isAddrInUse(err)) throw err
      opts.log?.(`[cluster] a port was taken before its host bound it: starting again on fresh ports`)
    }
  }
}

async function startClusterOnce(opts: ClusterOptions): Promise<Cluster> {
  const n = opts.pairs ?? 3
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'bursar-cluster-'))
  const enclaveDir = path.join(dataDir, 'enclave')
  mkdirSync(enclaveDir, { recursive: true })
  const auditToken = `bat_${randomBytes(24).toString('hex')}`
  // Fixed ports, chosen now: each host must accept owner read tokens naming any host of the cluster (a standby
  // forwards them to the holder), so every host is told every URL (BURSAR_READ_ORIGINS).
  const ports = [...(opts.ports ?? [])]
  while (ports.length < n) {
    const p = await freePort()
    if (!ports.includes(p)) ports.push(p)
  }
  const base = {
    ...process.env,
    BURSAR_DATABASE_URL: opts.databaseUrl,
    BURSAR_AUDIT_TOKEN: auditToken,
    BURSAR_READ_ORIGINS: ports.map((p) => `http://127.0.0.1:${p}`).join(','),
    ...opts.env,
  }
  let stopping = false
  const pairs: ClusterPair[] = []
  /** Every live child of this cluster: SIGKILLed (whole group) at the end of stop(), whatever stop() managed. */
  const children = new Set<ChildProcess>()
  const killAll = () => {
    for (const c of children) signalGroup(c, 'SIGKILL')
  }
  const mk = (index: number): ClusterPair => {
    const sock = path.join(dataDir, `pair-${index + 1}.sock`)
    const logs: string[] = []
    let listening = 0
    const spawnNode = (file: string, extra: Record<string, string>, tag: string) => {
      // Its own process group (killed whole), SIGKILLed if this process dies without stopping the cluster
      // (SIGKILL, a test worker torn down): scripts/lib/spawnReaped.ts.
      const c = spawnReaped(process.execPath, [...(tag === 'enclave' ? ENCLAVE_NODE_FLAGS : []), path.join(repoRoot, file)], { env: { ...(tag === 'enclave' ? ENCLAVE_ENV : {}), ...base, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] })
      children.add(c)
      c.once('exit', () => children.delete(c))
      c.stderr!.on('data', (d: Buffer) => {
        const s = d.toString()
        if (s.includes('enclave listening')) {
          listening++
          listened(AGENT_CLOCK_AHEAD_MS) // cluster enclaves keep the production agent start floor
        }
        logs.push(s)
        if (logs.length > 2_000) logs.splice(0, 1_000)
        opts.log?.(s.trimEnd().replace(/^/gm, `[pair ${index + 1} ${tag}] `))
      })
      return c
    }
    const kill = async (c: ChildProcess | null) => {
      if (!alive(c)) return
      await new Promise<void>((resolve) => {
        // Bounded: SIGTERM to the group, SIGKILL after 3 s, and no waiting past 6 s whatever happens.
        const give = setTimeout(() => {
          opts.log?.(`[cluster] pid ${c!.pid} did not exit after SIGKILL: not waiting for it`)
          resolve()
        }, 6_000)
        c!.once('exit', () => {
          clearTimeout(give)
          resolve()
        })
        signalGroup(c!, 'SIGCONT')
        signalGroup(c!, 'SIGTERM')
        setTimeout(() => signalGroup(c!, 'SIGKILL'), 3_000).unref()
      })
    }
    const pair: ClusterPair = {
      index,
      group: opts.groups?.[index % opts.groups.length] ?? 'default',
      url: '',
      port: ports[index]!,
      enclave: null as unknown as ChildProcess,
      host: null as unknown as ChildProcess,
      logs,
      async start() {
        const before = listening
        pair.enclave = spawnNode('dist/enclave.sim.mjs', { BURSAR_DATA_DIR: enclaveDir, BURSAR_ENCLAVE_LISTEN: `unix:${sock}` }, 'enclave')
        await waitFor(() => listening > before, 20_000, `pair ${index + 1} enclave listening`, logs)
        await pair.startHost()
        if (opts.supervise) {
          const h = pair.host
          const e = pair.enclave
          const restart = () => {
            if (stopping || pair.host !== h) return
            pair.host = null as unknown as ChildProcess // once per generation
            opts.log?.(`[cluster] pair ${index + 1} exited: restarting it as a standby with a fresh enclave`)
            void Promise.all([kill(h), kill(e)])
              .then(() => new Promise((r) => setTimeout(r, 300)))
              .then(() => (stopping ? undefined : pair.start()))
              .catch((err: Error) => opts.log?.(`[cluster] pair ${index + 1} restart failed: ${err.message}`))
          }
          h.once('exit', restart)
          e.once('exit', restart)
        }
      },
      async startHost() {
        pair.host = spawnNode(
          'dist/host.mjs',
          {
            BURSAR_DATA_DIR: path.join(dataDir, `host-${index + 1}`),
            BURSAR_ENCLAVE: `unix:${sock}`,
            BURSAR_PORT: String(pair.port),
            BURSAR_CLUSTER_NODE: `pair-${index + 1}`,
            BURSAR_CLUSTER_GROUP: pair.group,
          },
          'host',
        )
        const host = pair.host
        const port = await new Promise<number>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`pair ${index + 1} host did not listen\n${logs.join('').slice(-2000)}`)), 20_000)
          // A host that exits first (e.g. EADDRINUSE) fails the start at once, with its whole log ('close': stderr ended).
          host.once('close', () => {
            clearTimeout(t)
            reject(new Error(`pair ${index + 1} host exited before listening\n${logs.join('').slice(-2000)}`))
          })
          host.stdout!.on('data', (d: Buffer) => {
            const m = /"port":(\d+)/.exec(d.toString())
            if (m) {
              clearTimeout(t)
              resolve(Number(m[1]))
            }
          })
        })
        pair.url = `http://127.0.0.1:${port}`
      },
      signal(sig) {
        for (const c of [pair.host, pair.enclave]) if (alive(c)) signalGroup(c, sig)
      },
      async stop() {
        await Promise.all([kill(pair.host), kill(pair.enclave)])
      },
      async exited(timeoutMs = 30_000) {
        await bounded(
          Promise.all([pair.host, pair.enclave].map((c) => (alive(c) ? new Promise<void>((r) => c.once('exit', () => r())) : Promise.resolve()))),
          timeoutMs,
          `pair ${index + 1} exiting`,
        )
      },
    }
    return pair
  }
  const cluster: Cluster = {
    pairs,
    dataDir,
    auditToken,
    databaseUrl: opts.databaseUrl,
    async holder() {
      for (const p of pairs) {
        const r = await fetch(`${p.url}/v1/cluster`, { signal: AbortSignal.timeout(5_000) }).then((x) => (x.ok ? (x.json() as Promise<{ role: string; epoch: number | null }>) : null), () => null)
        if (r?.role === 'holder') return { pair: p, epoch: r.epoch ?? 0 }
      }
      return null
    },
    async waitReady(timeoutMs = 30_000) {
      const ready = (p: ClusterPair) => fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false)
      await waitFor(
        async () => {
          // Several groups: every pair answers ready (a standby forwards /readyz to its group's holder). Per-wallet
          // leases: every pair serves (its own enclave, its own chain).
          if (opts.groups || (opts.env?.BURSAR_CLUSTER_LEASES ?? process.env.BURSAR_CLUSTER_LEASES) === 'wallet') return (await Promise.all(pairs.map(ready))).every(Boolean)
          const h = await cluster.holder()
          return !!h && (await fetch(`${h.pair.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.ok, () => false))
        },
        timeoutMs,
        'a ready lease holder',
        pairs.flatMap((p) => p.logs),
      )
    },
    async stop() {
      stopping = true
      try {
        await bounded(
          (async () => {
            await Promise.all(pairs.map((p) => p.stop()))
            // A restart that was under way when stopping began may have spawned a process after its pair was stopped.
            await new Promise((r) => setTimeout(r, 400))
            await Promise.all(pairs.map((p) => p.stop()))
          })(),
          20_000,
          'the cluster stopping',
        )
      } catch (err) {
        opts.log?.(`[cluster] ${(err as Error).message}: SIGKILL to every process group left`)
      } finally {
        killAll()
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
    },
  }
  try {
    // One at a time: the first enclave creates the shared simulation sealing key and PKI.
    for (let i = 0; i < n; i++) {
      const p = mk(i)
      pairs.push(p)
      await p.start()
    }
    await cluster.waitReady()
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}

const alive = (c: ChildProcess | null): c is ChildProcess => !!c && c.exitCode === null && c.signalCode === null

/** `p`, or a rejection after `ms`: no teardown or wait in a cluster test hangs. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(t)
  }
}
