/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and reports where self time goes:
 * the top functions and the top source modules. For an esbuild bundle
 * (dist/*.mjs) each bundled line is mapped back to the module it came from
 * through esbuild's `// path/to/module.js` section comments.
 *
 *   npx tsx scripts/bench/summarizeCpuProfile.ts <file.cpuprofile> [top] [span function]
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { formatCpuProfileSummary } from './formatCpuProfileSummary.js'

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export type CpuProfileEntry = { name: string; module: string; selfMs: number; pct: number; busyPct: number }
export type SummarizeCpuProfileReturnType = {
  totalMs: number
  /** Share of the profile spent idle (waiting on I/O): 100 − this is how busy the process was. */
  idlePct: number
  top: CpuProfileEntry[]
  modules: CpuProfileEntry[]
  /** With `span`: the function whose first and last samples bound the summary (the load window, not start-up or setup). */
  span?: string | undefined
}

/**
 * Aggregates self time per function (name + module + line) and per module; percentages of all samples and of non-idle
 * samples. `span` (a function name, e.g. handleAgentSign): only the samples from the first to the last one whose stack
 * holds that function — the load, without the process's start-up and the bench's setup (owner acts, session opens).
 */
export function summarizeCpuProfile(file: string, top = 15, span?: string): SummarizeCpuProfileReturnType {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  let [from, to] = [0, profile.samples.length - 1]
  if (span) {
    const parent = new Map<number, number>()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const holds = new Map<number, boolean>()
    const inSpan = (id: number): boolean => {
      let h = holds.get(id)
      if (h === undefined) {
        const p = parent.get(id)
        h = byId.get(id)!.callFrame.functionName === span || (p !== undefined && inSpan(p))
        holds.set(id, h)
      }
      return h
    }
    const hits = profile.samples.flatMap((id, i) => (inSpan(id) ? [i] : []))
    if (hits.length > 0) [from, to] = [hits[0]!, hits[hits.length - 1]!]
  }
  const selfUs = new Map<number, number>()
  // lat41: the first sample's delta runs from the profile's start, not from a previous sample: in a profile started
  // through the inspector (profileSdk.ts) it charged ~0.35 s to the inspector's own `dispatch` (17 % of a 3 s c = 64
  // profile's busy time, 34 % at c = 1). Not a sampling interval, so not counted.
  profile.samples.forEach((id, i) => {
    if (i >= Math.max(from, 1) && i <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const bundles = new Map<string, ModuleIndex | null>()
  const fns = new Map<string, { name: string; module: string; us: number }>()
  const mods = new Map<string, number>()
  let totalUs = 0
  let idleUs = 0
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame // every sample id is a node id of the same profile
    totalUs += us
    if (f.functionName === '(idle)') idleUs += us
    let mapped = bundles.get(f.url)
    if (mapped === undefined) {
      mapped = indexBundle(f.url)
      bundles.set(f.url, mapped)
    }
    const module = moduleOf(f, mapped)
    const name = `${f.functionName || '(anonymous)'}${f.url ? `:${f.lineNumber + 1}` : ''}`
    const key = `${name}@${module}`
    const e = fns.get(key) ?? { name, module, us: 0 }
    e.us += us
    fns.set(key, e)
    const pkg = packageOf(module)
    mods.set(pkg, (mods.get(pkg) ?? 0) + us)
  }
  const busyUs = Math.max(1, totalUs - idleUs)
  const entry = (name: string, module: string, us: number): CpuProfileEntry => ({
    name,
    module,
    selfMs: Math.round(us / 100) / 10,
    pct: Math.round((us / totalUs) * 1000) / 10,
    busyPct: name === '(idle)' ? 0 : Math.round((us / busyUs) * 1000) / 10,
  })
  return {
    span,
    totalMs: Math.round(totalUs / 1000),
    idlePct: Math.round((idleUs / Math.max(1, totalUs)) * 1000) / 10,
    top: [...fns.values()]
      .filter((e) => e.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => entry(e.name, e.module, e.us)),
    modules: [...mods.entries()]
      .filter(([m]) => m !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([m, us]) => entry(m, m, us)),
  }
}

type ModuleIndex = { lines: number[]; paths: string[] }

function indexBundle(url: string): ModuleIndex | null {
  if (!url.startsWith('file://') || !url.endsWith('.mjs')) return null
  const file = fileURLToPath(url)
  if (!existsSync(file)) return null
  const lines: number[] = []
  const paths: string[] = []
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /^\/\/ ((?:node_modules|core|enclave|host|shared|agent|scripts|cli)\/\S+\.[cm]?[jt]s)$/.exec(line)
      if (m) {
        lines.push(i)
        paths.push(m[1]!)
      }
    })
  return { lines, paths }
}

function moduleOf(f: CallFrame, index: ModuleIndex | null): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : '(native)'
  if (f.url.startsWith('node:')) return f.url
  if (!index)
    return f.url.includes('/node_modules/')
      ? f.url.replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/')
      : f.url.replace(/^file:\/\/.*?\/(?=(?:agent|shared|scripts|cli|core|enclave|host)\/)/, '')
  let lo = 0
  let hi = index.lines.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (index.lines[mid]! <= f.lineNumber) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found < 0 ? '(bundle prelude)' : index.paths[found]!
}

/** node_modules/@scope/pkg/… → @scope/pkg; node_modules/pkg/… → pkg; own code → its directory; node:internal/x → node:internal. */
function packageOf(module: string): string {
  const nm = module.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const parts = module.slice(nm + 13).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (module.startsWith('node:')) return module.split('/').slice(0, 2).join('/')
  if (/^(enclave|host|shared|agent|core)\//.test(module)) return module.split('/').slice(0, 2).join('/')
  return module
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: summarizeCpuProfile.ts <file.cpuprofile> [top] [span function, e.g. handleAgentSign]')
    process.exit(2)
  }
  console.log(formatCpuProfileSummary(file, summarizeCpuProfile(file, Number(process.argv[3] ?? 15), process.argv[4])))
}
