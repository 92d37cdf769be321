/**
 * Issue 18's memory run: N payments (default 1,000,000) through ONE real simulated enclave process
 * (dist/enclave.sim.mjs, the bundle `make sim` runs), over W wallets (default 20), and what the enclave holds
 * afterwards. The driver is a minimal host on the enclave's Unix socket (host/enclave/EnclaveClient): hello →
 * loadState(null) → finishLoad → owner acts (CreateWallet, RegisterAgent, SetPolicy, each owner-signed, relayed through
 * governance's process at the socket + `.gov` as the host relays them: host/enclave/relayOwnerAct.ts) → one MAC
 * session per agent (the SDK's own openSession, through an agentStatus frame as the host forwards it) → agentSign
 * frames built exactly as the load generator does (buildPaymentRequest) and authenticated with the session's MAC as
 * the SDK and `make bench` do (BENCH_MEMORY_AUTH=ed25519: an Ed25519 signature per request, as before sessions), C in
 * flight. Like the real
 * host it acknowledges what it "stored" every ~2 s (catchUp with the newest entry seq and sealed version seen), so the
 * enclave may forget its kept entries and sealed blobs; the entries themselves are dropped (no SQLite: its disk and CPU
 * are not what is measured). Every answer must be ok.
 *
 * Reports, at intervals and at the end: the enclave's VmRSS (sampled every 250 ms: max per interval) and its heap
 * after a full GC (the process is started with --expose-gc and scripts/bench/memorySampler.mjs, which answers
 * SIGUSR2), and the newest sealed blob of each wallet and the core blob (bytes), i.e. the sealed state a restart loads.
 *
 *   npx tsx scripts/bench/memoryRun.ts [payments=1000000] [wallets=20] [concurrency=64] [agentsPerWallet=1] [ratePerSec=0: unpaced]
 *   make bench-memory            # the same, 1,000,000 payments; JSON to bench/results/<date>-memory-<sha>.json
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { EnclaveClient } from '../../host/enclave/EnclaveClient.js'
import { relayOwnerAct } from '../../host/enclave/relayOwnerAct.js'
import { governanceAddressOf } from '../../shared/governance/governanceProtocol.js'
import type { EnclaveRequest, ResponseFrame } from '../../shared/protocol/messages.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_USDC, buildPaymentRequest } from './buildPaymentRequest.js'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from '../lib/enclaveLaunch.js'
import { repoRoot } from '../lib/startStack.js'
import { type AgentSession, openSession, sessionMac } from '../../agent/agentSession.js'

export type MemorySample = {
  payments: number
  seconds: number
  rssMb: number
  rssMaxMb: number
  heapUsedMb: number
  heapTotalMb: number
  externalMb: number
  /** Of `external`, what ArrayBuffers (Buffers, Uint8Arrays) hold. */
  arrayBuffersMb: number
  sealedPerWalletBytes: { min: number; median: number; max: number }
  sealedCoreBytes: number
  sealedTotalBytes: number
}
export type MemoryRunResult = {
  auth: 'session' | 'ed25519'
  payments: number
  wallets: number
  agents: number
  concurrency: number
  seconds: number
  idle: { rssMb: number; heapUsedMb: number }
  samples: MemorySample[]
  rssMaxMb: number
  /** Round trip of each payment (frame out → answer in), ms: p50 / p99 / max. */
  latencyMs: { p50: number; p99: number; max: number }
  /** The enclave's main-thread GC pauses over the whole run (before the final sample): [count, total ms, max ms] by kind. */
  gcPauses: Record<'minor' | 'major' | 'other', [number, number, number]> | undefined
  /** The enclave process's CPU (user + system, /proc/<pid>/stat) per payment over the payment phase, GC samples included. */
  enclaveCpuUsPerPayment: number
  final: MemorySample
  sealedPerWallet: Record<string, number>
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10
/** utime + stime of a process, in clock ticks (USER_HZ = 100). */
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return Number(f[11]) + Number(f[12])
}
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)

export type MemoryRunParameters = {
  payments: number
  wallets: number
  concurrency: number
  agentsPerWallet: number
  /** How many samples over the run (default 10). */
  samples?: number | undefined
  /** Extra node flags for the enclave process (e.g. V8 heap flags, for an A/B). */
  enclaveNodeArgs?: string[] | undefined
  /** The enclave bundle to run (default this checkout's dist/enclave.sim.mjs), e.g. another checkout's for a before/after. */
  bundle?: string | undefined
  /** How each payment is authenticated: 'session' (default; a MAC session per agent, as the SDK) or 'ed25519' (a signature per request). */
  auth?: 'session' | 'ed25519' | undefined
  /**
   * Paced arrivals: payment i is sent no earlier than i / rate seconds after the start (still at most `concurrency` in
   * flight). Default: as fast as the enclave answers. A fixed rate keeps the state (replay ids, raw spends: set by the
   * rate, docs/bench.md) the same across configurations of an A/B on a machine whose speed moves.
   */
  ratePerSec?: number | undefined
  /** Extra environment for the enclave process (e.g. MALLOC_ARENA_MAX). */
  enclaveEnv?: Record<string, string> | undefined
  /** false: start the enclave without the launchers' memory settings (scripts/lib/enclaveLaunch.ts), for a before/after. */
  launchDefaults?: boolean | undefined
  log?: ((l: string) => void) | undefined
}

export async function memoryRun(opts: MemoryRunParameters): Promise<MemoryRunResult> {
  const log = opts.log ?? ((l: string) => console.log(l))
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-mem-'))
  const sock = path.join(dir, 'enclave.sock')
  const sampleFile = path.join(dir, 'mem.jsonl')
  const logs: string[] = []
  let enclave: ChildProcess | undefined
  let client: EnclaveClient | undefined
  let governance: EnclaveClient | undefined
  try {
    enclave = spawn(process.execPath, [...(opts.launchDefaults === false ? [] : ENCLAVE_NODE_FLAGS), ...(opts.enclaveNodeArgs ?? []), '--expose-gc', '--import', path.join(repoRoot, 'scripts/bench/memorySampler.mjs'), opts.bundle ?? path.join(repoRoot, 'dist/enclave.sim.mjs')], {
      env: { ...(opts.launchDefaults === false ? {} : ENCLAVE_ENV), ...process.env, ...opts.enclaveEnv, BURSAR_DATA_DIR: dir, BURSAR_ENCLAVE_LISTEN: `unix:${sock}`, BURSAR_MEM_SAMPLE_FILE: sampleFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    enclave.stderr!.on('data', (d: Buffer) => logs.push(d.toString()))
    const pid = enclave.pid!
    for (let t = Date.now(); !logs.join('').includes('enclave listening'); ) {
      if (Date.now() - t > 20_000 || enclave.exitCode !== null) throw new Error(`enclave did not start\n${logs.join('')}`)
      await new Promise((r) => setTimeout(r, 25))
    }
    client = new EnclaveClient({ kind: 'unix', path: sock }, 60_000)
    await client.start()
    // Owner acts go through governance's process, which the sim enclave starts beside itself (issue 12 stage B), relayed
    // as the host relays them (host/enclave/relayOwnerAct.ts).
    governance = new EnclaveClient({ kind: 'unix', path: governanceAddressOf(`unix:${sock}`).slice('unix:'.length) }, 60_000)
    await governance.start()
    let storedThrough = -1
    let snapshotVersion = 0
    const sealedNow = new Map<string, number>()
    let coreBytes = 0
    const call = async (msg: EnclaveRequest): Promise<ResponseFrame> => {
      const r = await client!.call(msg)
      const p = r.persist
      if (p) {
        const last = p.entries[p.entries.length - 1]
        if (last) storedThrough = Math.max(storedThrough, (JSON.parse(last) as { seq: number }).seq)
        if (p.sealed) {
          snapshotVersion = Math.max(snapshotVersion, p.sealed.version)
          coreBytes = p.sealed.blob.length
          for (const w of p.sealed.wallets ?? []) sealedNow.set(w.wallet.toLowerCase(), w.blob.length)
        }
      }
      return r
    }
    const must = async (msg: EnclaveRequest) => {
      const r = await call(msg)
      if (!r.ok) throw new Error(`${msg.type} refused: ${r.error.code}: ${r.error.message}`)
      return r.result as Record<string, unknown>
    }
    await must({ type: 'hello', protocolVersion: 1 })
    await must({ type: 'loadState', snapshot: null })
    await must({ type: 'finishLoad' })
    const auditChain = (await must({ type: 'attest', nonce: null })).auditChain as string // gov36: new wallets name it
    const started = Date.now()

    // Owner acts: one owner per wallet (an owner may hold 4), A agents each with its own Ed25519 key and the bench's policy.
    const act = async (owner: ReturnType<typeof privateKeyToAccount>, primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) =>
      relayOwnerAct((msg) => call(msg) as never, governance!, { ...(await signOwnerAct({ account: owner, primaryType, message })), ...(policy ? { policy } : {}) }).then((r) => {
        if (!r.ok) throw new Error(`${primaryType} refused: ${r.error.code}: ${r.error.message}`)
        return r.result as Record<string, unknown>
      })
    const agents: Array<{ agentId: string; wallet: `0x${string}`; key: KeyObject }> = []
    for (let w = 0; w < opts.wallets; w++) {
      const owner = privateKeyToAccount(generatePrivateKey())
      const created = await act(owner, 'CreateWallet', { owner: owner.address, label: `mem-${w}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: auditChain })
      const wallet = created.wallet as `0x${string}`
      let seq = 0
      for (let a = 0; a < opts.agentsPerWallet; a++) {
        const { publicKey, privateKey } = generateKeyPairSync('ed25519')
        const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
        const agentId = agentIdFromPublicKey(raw)
        await act(owner, 'RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: String(++seq) })
        const policy = parsePolicy({
          version: 1, wallet, agentId, timeZone: 'UTC',
          tokens: [{ chainId: BENCH_CHAIN_ID, asset: BENCH_USDC, name: 'USDC', version: '2', decimals: 6 }],
          budgets: [{ chainId: BENCH_CHAIN_ID, asset: BENCH_USDC, perTx: '1000000', rolling24h: '1000000000000000' }],
          rules: [{ id: 'x402', effect: 'allow', kinds: ['eip3009'], chains: { in: [BENCH_CHAIN_ID] }, assets: { in: [BENCH_USDC] }, payTo: { in: [BENCH_PAY_TO] }, hosts: { in: ['api.example.com'] }, maxValiditySeconds: 3600 }],
        })
        await act(owner, 'SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: String(++seq) }, JSON.stringify(policy))
        agents.push({ agentId, wallet, key: privateKey })
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, started + 2_100 - Date.now()))) // past the start floor

    // One session per agent, opened as the SDK opens it (an Ed25519-signed openSession, forwarded as agentStatus).
    const auth = opts.auth ?? 'session'
    const sessions = new Map<string, AgentSession>()
    const openFor = async (a: (typeof agents)[number]) => {
      const post = async (body: string) => {
        const r = await call({ type: 'agentStatus', ...(JSON.parse(body) as { request: string; signature: string }) })
        return { status: r.ok ? 200 : 400, text: JSON.stringify(r.ok ? r.result : r.error) }
      }
      const s = await openSession({ agentId: a.agentId, publicKey: '', privateKey: '' }, a.wallet, a.key, post)
      if (!s) throw new Error(`openSession for ${a.agentId} failed`)
      sessions.set(a.agentId, s)
    }
    if (auth === 'session') for (const a of agents) await openFor(a)

    // Heap after a full GC, read from the enclave's sampler.
    let sampleLines = 0
    const liveHeap = async () => {
      process.kill(pid, 'SIGUSR2')
      for (let t = Date.now(); Date.now() - t < 120_000; await new Promise((r) => setTimeout(r, 20))) {
        // Whole lines only: a read can land while the sampler's line is half written (seen once in a fresh-clone run).
        const text = existsSync(sampleFile) ? readFileSync(sampleFile, 'utf8') : ''
        const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '')
        if (lines.length > sampleLines) {
          sampleLines = lines.length
          return JSON.parse(lines[lines.length - 1]!) as { after: NodeJS.MemoryUsage; gcPauses?: MemoryRunResult['gcPauses'] }
        }
      }
      throw new Error('the enclave did not answer SIGUSR2')
    }
    const idleHeap = await liveHeap()
    const idle = { rssMb: mb(rssKb(pid) * 1024), heapUsedMb: mb(idleHeap.after.heapUsed) }
    log(`enclave pid ${pid}: ${agents.length} agents on ${opts.wallets} wallets; idle RSS ${idle.rssMb} MB, heap used after GC ${idle.heapUsedMb} MB`)

    let rssMax = 0
    let rssMaxInterval = 0
    const rssTimer = setInterval(() => {
      const r = rssKb(pid) * 1024
      rssMax = Math.max(rssMax, r)
      rssMaxInterval = Math.max(rssMaxInterval, r)
    }, 250)
    let lastAck = Date.now()
    let acking: Promise<unknown> | null = null
    const ack = () => {
      lastAck = Date.now()
      acking ??= call({ type: 'catchUp', storedThrough, snapshotVersion }).finally(() => { acking = null })
    }
    const samples: MemorySample[] = []
    const every = Math.max(1, Math.floor(opts.payments / (opts.samples ?? 10)))
    const cpu0 = cpuTicks(pid)
    const t0 = performance.now()
    let next = 0
    let done = 0
    let nextSample = every
    const sample = async (): Promise<MemorySample> => {
      await acking
      ack()
      await acking
      const h = await liveHeap()
      lastGcPauses = h.gcPauses
      const sizes = [...sealedNow.values()].sort((a, b) => a - b)
      const s: MemorySample = {
        payments: done,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        rssMb: mb(rssKb(pid) * 1024),
        rssMaxMb: mb(rssMaxInterval),
        heapUsedMb: mb(h.after.heapUsed),
        heapTotalMb: mb(h.after.heapTotal),
        externalMb: mb(h.after.external),
        arrayBuffersMb: mb(h.after.arrayBuffers),
        sealedPerWalletBytes: { min: sizes[0] ?? 0, median: sizes[sizes.length >> 1] ?? 0, max: sizes[sizes.length - 1] ?? 0 },
        sealedCoreBytes: coreBytes,
        sealedTotalBytes: coreBytes + sizes.reduce((a, b) => a + b, 0),
      }
      rssMaxInterval = 0
      log(`${String(s.payments).padStart(9)} payments ${String(s.seconds).padStart(7)} s (${Math.round(done / ((performance.now() - t0) / 1000))}/s): RSS ${s.rssMb} MB (max ${s.rssMaxMb}), heap used after GC ${s.heapUsedMb} MB (total ${s.heapTotalMb}, external ${s.externalMb}, of it ArrayBuffers ${s.arrayBuffersMb}); sealed per wallet (${sizes.length}) ${s.sealedPerWalletBytes.min}–${s.sealedPerWalletBytes.max} B (median ${s.sealedPerWalletBytes.median}), core ${s.sealedCoreBytes} B, all ${s.sealedTotalBytes} B`)
      return s
    }
    const latencies: number[] = []
    let lastGcPauses: MemoryRunResult['gcPauses']
    let paused: Promise<void> | null = null
    /** Time spent quiesced for samples: paced arrivals resume after it rather than burst to catch up. */
    let pausedMs = 0
    const worker = async () => {
      while (next < opts.payments) {
        if (paused) await paused
        const i = next++
        if (opts.ratePerSec) {
          const due = t0 + pausedMs + (i * 1000) / opts.ratePerSec - performance.now()
          if (due > 0) await new Promise((r) => setTimeout(r, due))
        }
        const a = agents[i % agents.length]!
        let session = sessions.get(a.agentId)
        if (session && session.until <= Date.now()) await openFor(a) // a run past a session's life (~1 h) opens another
        session = sessions.get(a.agentId)
        const req = buildPaymentRequest({ agentId: a.agentId, wallet: a.wallet, key: session ? null : a.key })
        const sent = performance.now()
        const r = await call({ type: 'agentSign', request: req.text, signature: session ? sessionMac(session, req.text) : req.signature })
        latencies.push(performance.now() - sent)
        if (!r.ok) throw new Error(`payment ${i} refused: ${r.error.code}: ${r.error.message}`)
        done++
        if (Date.now() - lastAck > 2_000) ack()
        if (done >= nextSample && !paused) {
          nextSample += every
          // Quiesce for the sample: the workers wait while the GC runs and the heap is read.
          let release!: () => void
          paused = new Promise((r) => (release = r))
          const p0 = performance.now()
          while (next > done) await new Promise((r) => setTimeout(r, 1))
          samples.push(await sample())
          pausedMs += performance.now() - p0
          paused = null
          release()
        }
      }
    }
    await Promise.all(Array.from({ length: opts.concurrency }, () => worker()))
    clearInterval(rssTimer)
    const enclaveCpuUsPerPayment = Math.round(((cpuTicks(pid) - cpu0) * 1e6) / 100 / Math.max(1, done))
    const final = samples[samples.length - 1]?.payments === done ? samples[samples.length - 1]! : await sample()
    if (final !== samples[samples.length - 1]) samples.push(final)
    latencies.sort((a, b) => a - b)
    const q = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0) * 100) / 100
    return {
      latencyMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
      gcPauses: lastGcPauses,
      auth,
      payments: done,
      wallets: opts.wallets,
      agents: agents.length,
      concurrency: opts.concurrency,
      seconds: Math.round((performance.now() - t0) / 1000),
      idle,
      samples,
      rssMaxMb: mb(rssMax),
      enclaveCpuUsPerPayment,
      final,
      sealedPerWallet: Object.fromEntries(sealedNow),
    }
  } finally {
    client?.close()
    governance?.close()
    enclave?.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [payments = 1_000_000, wallets = 20, concurrency = 64, agentsPerWallet = 1, ratePerSec = 0] = process.argv.slice(2).map(Number)
  const enclaveNodeArgs = (process.env.BENCH_ENCLAVE_FLAGS ?? '').split(' ').filter(Boolean)
  const auth = process.env.BENCH_MEMORY_AUTH === 'ed25519' ? 'ed25519' : 'session'
  const { ensureBundles } = await import('../buildEnclave.js')
  await ensureBundles()
  console.log(`memory run: ${payments} payments over ${wallets} wallets (${agentsPerWallet} agent(s) each), ${concurrency} in flight, one simulated enclave process, ${auth} auth${ratePerSec ? `, paced at ${ratePerSec}/s` : ""}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
  const r = await memoryRun({ payments, wallets, concurrency, agentsPerWallet, enclaveNodeArgs, auth, ratePerSec: ratePerSec || undefined })
  console.log(`done: ${r.payments} payments in ${r.seconds} s (enclave flags ${[...ENCLAVE_NODE_FLAGS, ...enclaveNodeArgs].join(' ')}, ${Object.entries(ENCLAVE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}); enclave CPU ${r.enclaveCpuUsPerPayment} µs/payment; latency p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms; GC pauses [count, ms, max ms] ${JSON.stringify(r.gcPauses)}; enclave RSS max ${r.rssMaxMb} MB, at the end ${r.final.rssMb} MB; heap used after GC ${r.final.heapUsedMb} MB (idle ${r.idle.heapUsedMb}); sealed state per wallet ${r.final.sealedPerWalletBytes.min}–${r.final.sealedPerWalletBytes.max} B, core ${r.final.sealedCoreBytes} B`)
  if (payments >= 100_000) {
    const sha = execSync('git rev-parse --short HEAD', { cwd: repoRoot }).toString().trim()
    const file = path.join(repoRoot, 'bench/results', `${new Date().toISOString().slice(0, 10)}-memory-${sha}.json`)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, `${JSON.stringify({ loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(), enclaveLaunch: { nodeFlags: [...ENCLAVE_NODE_FLAGS, ...enclaveNodeArgs], env: ENCLAVE_ENV }, ...r }, null, 2)}\n`)
    console.log(`wrote ${path.relative(repoRoot, file)}`)
  }
}
