/**
 * Runs the in-process fuzz targets over a deterministic input stream: input i
 * of target t is generated from (SEED, t, i) alone, so any finding reproduces
 * from its coordinates (`regenerate`). Counts crashes (anything but a typed
 * refusal), per-input time over the bound (hangs) and the RSS peak.
 */
import { decode, encode } from 'cborg'
import { type Rng, makeRng, mutateBytes, mutateTree, subtrees } from './mutate.js'
import type { Target } from './targets.js'

export type Finding = { target: string; index: number; seed: number; message: string }

export type TargetFigures = { name: string; inputs: number; crashes: number; hangs: number; slowestMs: number; totalMs: number }

export type RunTargetsReturnType = {
  inputs: number
  crashes: Finding[]
  crashCount: number
  hangs: Finding[]
  hangCount: number
  peakRssMb: number
  targets: TargetFigures[]
}

export type RunTargetsParameters = {
  seed: number
  count: number
  targets: Target[]
  /** This process runs the inputs with index % of === index (for parallel shards). */
  shard?: { index: number; of: number }
  /** An input taking longer than this is a hang (default 1000 ms). */
  hangMs?: number
  onProgress?: (p: { done: number; rssMb: number; target: string; index: number }) => void
}

/** Generated inputs stay at or under 16 KiB (bigger ones are a size-limit question, covered by the live enclave and the frame tests). */
const MAX_INPUT_BYTES = 16 * 1024

type Prepared = { target: Target; trees: unknown[]; splice: unknown[]; bytes: Uint8Array[]; texts: string[] }

function prepare(target: Target): Prepared {
  const trees: unknown[] = []
  const bytes: Uint8Array[] = []
  const texts: string[] = []
  for (const s of target.seeds) {
    if (target.format === 'bytes') {
      const b = s as Uint8Array
      bytes.push(b)
      try {
        trees.push(decode(b, { allowUndefined: false, useMaps: true }))
      } catch {
        // not CBOR at the top (e.g. a framed stream, BER): byte mutation only
      }
    } else {
      trees.push(s)
      const t = JSON.stringify(s)
      texts.push(t)
      bytes.push(new TextEncoder().encode(t))
    }
  }
  return { target, trees, splice: subtrees(trees), bytes, texts }
}

/** The exact input number `index` of `target` for `seed` (what the run fed it). */
export function generate(p: Prepared, rng: Rng): unknown {
  const { target } = p
  if (target.format === 'bytes') {
    const mode = rng.next()
    if (mode < 0.03) return mutateBytes(rng, new Uint8Array(rng.int(256)), p.bytes)
    if (mode < 0.3 && p.trees.length) {
      try {
        const b = encode(mutateTree(rng, rng.pick(p.trees), p.splice) as never)
        if (b.length <= MAX_INPUT_BYTES) return b
      } catch {
        // the mutated tree is not encodable (e.g. a non-finite float): fall through to bytes
      }
    }
    return mutateBytes(rng, rng.pick(p.bytes), p.bytes)
  }
  const mode = rng.next()
  if (mode < 0.2) {
    // text-level mutation of the JSON (what a byte-flipping wire would deliver)
    const text = new TextDecoder().decode(mutateBytes(rng, rng.pick(p.bytes), p.bytes, 16 * 1024))
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  // structure-aware: mutate the tree, then round-trip through JSON as the wire would
  const text = JSON.stringify(mutateTree(rng, rng.pick(p.trees), p.splice))
  if (text === undefined) return null
  return text.length <= MAX_INPUT_BYTES ? JSON.parse(text) : JSON.parse(rng.pick(p.texts))
}

/** Regenerates one input from its coordinates (for a regression test). */
export function regenerate(targets: Target[], name: string, seed: number, index: number): unknown {
  const ti = targets.findIndex((t) => t.name === name)
  if (ti < 0) throw new TypeError(`no target ${name}`)
  const rng = makeRng(seed, ti, index)
  const input = generate(prepare(targets[ti]!), rng)
  return input
}

const rssMb = () => Math.round(process.memoryUsage().rss / (1024 * 1024))

/** Runs `count` inputs split over the targets by weight; never throws for a finding. */
export async function runTargets(params: RunTargetsParameters): Promise<RunTargetsReturnType> {
  const { seed, targets } = params
  const shard = params.shard ?? { index: 0, of: 1 }
  const hangMs = params.hangMs ?? 1_000
  const totalWeight = targets.reduce((n, t) => n + t.weight, 0)
  const out: RunTargetsReturnType = { inputs: 0, crashes: [], crashCount: 0, hangs: [], hangCount: 0, peakRssMb: rssMb(), targets: [] }
  const seen = new Set<string>()
  let done = 0
  let lastProgress = Date.now()
  for (let ti = 0; ti < targets.length; ti++) {
    const target = targets[ti]!
    const p = prepare(target)
    const n = Math.round((params.count * target.weight) / totalWeight)
    const fig: TargetFigures = { name: target.name, inputs: 0, crashes: 0, hangs: 0, slowestMs: 0, totalMs: 0 }
    const tStart = performance.now()
    for (let i = shard.index; i < n; i += shard.of) {
      const rng = makeRng(seed, ti, i)
      const input = generate(p, rng)
      const t0 = performance.now()
      try {
        const r = target.run(input, rng)
        if (r instanceof Promise) await r
      } catch (err) {
        fig.crashes++
        out.crashCount++
        const message = `${(err as Error)?.name}: ${String((err as Error)?.message ?? err).slice(0, 300)}`
        const key = `${target.name}|${message.slice(0, 80)}`
        if (!seen.has(key) && out.crashes.length < 50) {
          seen.add(key)
          out.crashes.push({ target: target.name, index: i, seed, message: `${message}\n${String((err as Error)?.stack ?? '').split('\n').slice(1, 5).join('\n')}` })
        }
      }
      const ms = performance.now() - t0
      if (ms > fig.slowestMs) fig.slowestMs = Math.round(ms * 10) / 10
      if (ms > hangMs) {
        fig.hangs++
        out.hangCount++
        if (out.hangs.length < 50) out.hangs.push({ target: target.name, index: i, seed, message: `${Math.round(ms)} ms` })
      }
      fig.inputs++
      out.inputs++
      done++
      if ((done & 511) === 0) {
        const r = rssMb()
        if (r > out.peakRssMb) out.peakRssMb = r
        if (Date.now() - lastProgress > 1_000) {
          lastProgress = Date.now()
          params.onProgress?.({ done, rssMb: r, target: target.name, index: i })
          await new Promise((res) => setImmediate(res)) // let IPC and timers through
        }
      }
    }
    fig.totalMs = Math.round(performance.now() - tStart)
    out.targets.push(fig)
  }
  out.peakRssMb = Math.max(out.peakRssMb, rssMb())
  return out
}
