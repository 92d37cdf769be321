/**
 * Issue 18 (host34): whole builds (and host node flags) interleaved, each window a fresh stack at c = 64 with the host
 * under `--cpu-prof`: the host's CPU µs per answered request (/proc) and its main thread's busy time per request split
 * by the profile into named parts (inclusive: a function and all it calls). Shares of one profile move far less with
 * a loaded machine than times do; the parts' µs are share × the host's busy µs per request.
 *
 *   npx tsx scripts/bench/hostProfileAb.ts [rounds=3] [ms=5000] NAME=DIR[,--flag...] ...
 *   e.g. base=.ab/base new=. semi32=.,--max-semi-space-size=32   (a flag given to both processes: the enclave's own
 *   launch flags come after it and win for the enclave, so only the host gets it)
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { benchEndToEnd } from './benchEndToEnd.js'

const [roundsArg, msArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 3)
const durationMs = Number(msArg ?? 5000)
const configs = specs.map((s) => {
  const at = s.indexOf('=')
  const [name, rest] = [s.slice(0, at), s.slice(at + 1)]
  const [dir, ...flags] = rest.split(',')
  return { name, root: path.resolve(dir!), flags }
})
/** Parts by the function names whose frames mark them (inclusive); the first listed that a stack holds takes the sample. */
const PARTS: Array<[string, string[]]> = [
  ['GC', ['(garbage collector)']],
  ['SQLite persist transaction', ['persistTx']],
  ['answer checks (zod or exact)', ['safeParse', 'exactResponseFrame', 'exactAgentSigned']],
  ['frame decode (cborg)', ['decodeFrameBody']],
  ['toAnswer (answer text)', ['toAnswer']],
  ['withAuditEntry', ['withAuditEntry']],
  ['enclave socket writes', ['uncork']],
  ['request frame encode', ['encodeFrame']],
  ['idOf + requestHash', ['idOf', 'requestHash']],
  ['fetch marks', ['flushMarks', 'markAnswersFetched']],
]
function profileParts(file: string): { busyMs: number; parts: Record<string, number> } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Array<{ id: number; callFrame: { functionName: string }; children?: number[] }>; samples: number[]; timeDeltas: number[] }
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const partOf = new Map<number, string | null>()
  const part = (id: number): string | null => {
    if (partOf.has(id)) return partOf.get(id)!
    const name = byId.get(id)!.callFrame.functionName
    const own = PARTS.find(([, fns]) => fns.includes(name))?.[0]
    const p = parent.get(id)
    // The outermost named part wins (e.g. a safeParse inside persistTx counts to the transaction).
    const up = p === undefined ? null : part(p)
    const r = up ?? own ?? null
    partOf.set(id, r)
    return r
  }
  // The load window: from the first to the last sample inside the agent route's idOf.
  const inIdOf = (id: number): boolean => {
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) if (byId.get(c)!.callFrame.functionName === 'idOf') return true
    return false
  }
  let first = -1
  let last = -1
  prof.samples.forEach((s, i) => {
    if (inIdOf(s)) (first < 0 && (first = i), (last = i))
  })
  let busy = 0
  const parts: Record<string, number> = {}
  for (let i = Math.max(first, 0); i <= last; i++) {
    const n = byId.get(prof.samples[i]!)!
    if (n.callFrame.functionName === '(idle)') continue
    const dt = (prof.timeDeltas[i] ?? 0) / 1000
    busy += dt
    const p = part(prof.samples[i]!) ?? 'other'
    parts[p] = (parts[p] ?? 0) + dt
  }
  return { busyMs: busy, parts }
}

const rows: Record<string, Array<{ hostUs: number; busyUs: number; parts: Record<string, number>; ops: number; load: number }>> = {}
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...configs].reverse() : configs
  for (const c of order) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-hostprof-'))
    const load = loadavg()[0]!
    const run = await benchEndToEnd({ levels: [64], warmupMs: 1500, durationMs, root: c.root, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, ...c.flags], log: () => {} })
    const l = run.levels[0]!
    const f = readdirSync(dir).find((x) => x.includes(`.${run.pids.host}.`) && x.endsWith('.cpuprofile'))
    if (!f) throw new Error(`no host profile in ${dir}`)
    const p = profileParts(path.join(dir, f))
    // Answered requests in the profile's window: the window's ops/s × the profiled span.
    const answered = l.opsPerSec * (p.busyMs / 1000 / Math.max(0.01, (l.cpuPct.host ?? 0) / 100))
    const row = { hostUs: l.cpuUsPerRequest.host ?? 0, busyUs: (p.busyMs * 1000) / answered, parts: Object.fromEntries(Object.entries(p.parts).map(([k, v]) => [k, (v * 1000) / answered])), ops: l.opsPerSec, load }
    ;(rows[c.name] ??= []).push(row)
    console.log(`round ${round + 1} ${c.name.padEnd(8)} host ${row.hostUs.toFixed(0)} µs/request (/proc), ${row.ops.toFixed(0)} ops/s, load ${load.toFixed(1)}; main thread ${row.busyUs.toFixed(0)} µs: ${Object.entries(row.parts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`)
  }
}
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const rng = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`
console.log('\nmedians [range], µs per answered request; parts as shares of each window\'s main-thread busy time:')
for (const [name, rs] of Object.entries(rows)) {
  const keys = [...new Set(rs.flatMap((r) => Object.keys(r.parts)))]
  const share = (k: string) => rs.map((r) => (100 * (r.parts[k] ?? 0)) / r.busyUs)
  console.log(`${name.padEnd(8)} host (/proc) ${med(rs.map((r) => r.hostUs)).toFixed(0)} [${rng(rs.map((r) => r.hostUs))}]; ${keys.sort().map((k) => `${k} ${med(share(k)).toFixed(1)} % [${rng(share(k))}]`).join('; ')}`)
}
process.exit(0)
