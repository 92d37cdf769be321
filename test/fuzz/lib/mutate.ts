/**
 * Deterministic mutation engine for the fuzzer: a seeded PRNG, byte-level
 * mutators (AFL-style: bit flips, interesting values, block insert / delete /
 * duplicate / splice, truncation) and structure-aware mutators over decoded
 * values (JSON or CBOR trees: type confusion, boundary integers, long strings,
 * deep nesting, dropped and unknown keys, subtree splicing between seeds).
 */

export type Rng = {
  next(): number
  int(n: number): number
  pick<T>(xs: readonly T[]): T
  chance(p: number): boolean
}

/** mulberry32, seeded from (seed, stream, index) so any input can be regenerated from its coordinates. */
export function makeRng(seed: number, stream: number, index: number): Rng {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35) ^ Math.imul(index + 1, 0x27d4eb2f)) >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return { next, int, pick: (xs) => xs[int(xs.length)]!, chance: (p) => next() < p }
}

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x5f, 0x7f, 0x9f, 0xbf, 0xf6, 0xf7]
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xffff, 32 * 1024 * 1024 + 1]

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = rng.int(256)
  return b
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Applies 1–4 byte-level mutations (size capped at `maxLen`). */
export function mutateBytes(rng: Rng, input: Uint8Array, others: readonly Uint8Array[], maxLen = 16 * 1024): Uint8Array {
  let b: Uint8Array = new Uint8Array(input)
  const rounds = 1 + rng.int(4)
  for (let r = 0; r < rounds; r++) {
    const len = b.length
    const at = len === 0 ? 0 : rng.int(len)
    switch (rng.int(11)) {
      case 0: // bit flip
        if (len) b[at] = b[at]! ^ (1 << rng.int(8))
        break
      case 1: // random byte
        if (len) b[at] = rng.int(256)
        break
      case 2: // interesting byte (CBOR/DER headers, lengths)
        if (len) b[at] = rng.pick(INTERESTING_8)
        break
      case 3: {
        // interesting 32-bit big-endian value
        if (len >= 4) new DataView(b.buffer, b.byteOffset).setUint32(rng.int(len - 3), rng.pick(INTERESTING_32))
        break
      }
      case 4: // insert random block
        b = concat(b.subarray(0, at), randomBytes(rng, 1 + rng.int(32)), b.subarray(at))
        break
      case 5: {
        // delete block
        const n = 1 + rng.int(Math.max(1, Math.min(64, len - at)))
        b = concat(b.subarray(0, at), b.subarray(at + n))
        break
      }
      case 6: {
        // duplicate a block, sometimes many times (growth)
        const n = 1 + rng.int(Math.max(1, Math.min(64, len - at)))
        const block = b.subarray(at, at + n)
        const times = rng.chance(0.1) ? 1 + rng.int(200) : 1
        b = concat(b.subarray(0, at + n), ...Array.from({ length: times }, () => block), b.subarray(at + n))
        break
      }
      case 7: {
        // splice with another seed
        const o = others.length ? rng.pick(others) : b
        if (o.length) {
          const from = rng.int(o.length)
          b = concat(b.subarray(0, at), o.subarray(from, from + 1 + rng.int(o.length - from)))
        }
        break
      }
      case 8: // truncate
        b = b.subarray(0, at)
        break
      case 9: {
        // overwrite a run with one value (zero / 0xff fills)
        const n = 1 + rng.int(16)
        b.fill(rng.chance(0.5) ? 0 : 0xff, at, at + n)
        break
      }
      default: {
        // swap two blocks
        if (len > 8) {
          const n = 1 + rng.int(Math.min(16, Math.floor(len / 4)))
          const x = rng.int(len - n)
          const y = rng.int(len - n)
          const tmp = b.slice(x, x + n)
          b.copyWithin(x, y, y + n)
          b.set(tmp, y)
        }
      }
    }
    if (b.length > maxLen) b = b.subarray(0, maxLen)
    b = new Uint8Array(b)
  }
  return b
}

const BOUNDARY_NUMBERS = [0, -1, 1, 255, 256, 65535, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, 1e21, 1e308, -1e308, 0.5, -0.0]
const BOUNDARY_STRINGS = [
  '',
  '0',
  '-1',
  '18446744073709551615',
  '115792089237316195423570985008687907853269984665640564039457584007913129639936',
  '9007199254740993',
  '1e9',
  '0x',
  '0x00',
  `0x${'f'.repeat(64)}`,
  `0x${'F'.repeat(40)}`,
  '__proto__',
  'constructor',
  '\u0000',
  '\ud800',
  '💸',
  'agt_',
  'https://x',
]

/** A random JSON-ish leaf or small structure (type confusion). */
function randomValue(rng: Rng, depth = 0): unknown {
  // Deep nesting is expensive to build and parse: keep it to ~1 % of values.
  switch (depth > 2 ? rng.int(6) : rng.chance(0.05) ? 8 : rng.int(8)) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
      return rng.pick(BOUNDARY_NUMBERS)
    case 3:
      return rng.pick(BOUNDARY_STRINGS)
    case 4:
      return 'A'.repeat(rng.pick([1, 64, 65, 81, 129, 281, 2049, 20000]))
    case 5:
      return rng.int(1000)
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1))
    case 7:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [`k${i}`, randomValue(rng, depth + 1)]))
    default: {
      // deep nesting
      let v: unknown = 1
      for (let i = rng.int(600); i > 0; i--) v = [v]
      return v
    }
  }
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] | Map<unknown, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array)
}

function entriesOf(v: Record<string, unknown> | unknown[] | Map<unknown, unknown>): Array<[unknown, unknown]> {
  if (v instanceof Map) return [...v.entries()]
  if (Array.isArray(v)) return v.map((x, i) => [i, x])
  return Object.entries(v)
}

function setChild(v: Record<string, unknown> | unknown[] | Map<unknown, unknown>, k: unknown, x: unknown): void {
  if (v instanceof Map) v.set(k, x)
  else if (Array.isArray(v)) v[k as number] = x
  // An own property even for '__proto__' (what JSON.parse produces).
  else Object.defineProperty(v, k as string, { value: x, enumerable: true, writable: true, configurable: true })
}

function deleteChild(v: Record<string, unknown> | unknown[] | Map<unknown, unknown>, k: unknown): void {
  if (v instanceof Map) v.delete(k)
  else if (Array.isArray(v)) v.splice(k as number, 1)
  else delete (v as Record<string, unknown>)[k as string]
}

/** Deep copy of a JSON/CBOR tree (Maps, arrays, objects, Uint8Arrays). */
export function cloneTree<T>(v: T): T {
  if (v instanceof Uint8Array) return new Uint8Array(v) as T
  if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [k, cloneTree(x)])) as T
  if (Array.isArray(v)) return v.map(cloneTree) as T
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneTree(x)])) as T
  return v
}

/** Mutates a leaf in a way that keeps its type most of the time (near-valid inputs reach deeper code). */
function mutateLeaf(rng: Rng, v: unknown, others: readonly unknown[]): unknown {
  if (typeof v === 'string') {
    switch (rng.int(7)) {
      case 0:
        return v.slice(0, rng.int(v.length + 1))
      case 1:
        return v + (rng.chance(0.5) ? v : rng.pick(BOUNDARY_STRINGS))
      case 2:
        // digit / hex nibble change keeps the shape
        if (v.length) {
          const i = rng.int(v.length)
          return v.slice(0, i) + rng.pick(['0', '9', 'f', 'F', 'x', '-', ' ', '.', 'e']) + v.slice(i + 1)
        }
        return v
      case 3:
        return /^\d+$/.test(v) ? rng.pick(BOUNDARY_STRINGS.slice(0, 8)) : v.toUpperCase()
      case 4:
        return rng.pick(BOUNDARY_STRINGS)
      case 5:
        return Number.isFinite(Number(v)) && v !== '' ? Number(v) : v.length
      default:
        return randomValue(rng)
    }
  }
  if (typeof v === 'number') return rng.chance(0.7) ? rng.pick(BOUNDARY_NUMBERS) : String(v)
  if (typeof v === 'boolean') return rng.chance(0.5) ? !v : rng.pick([0, 1, 'true', null])
  if (v instanceof Uint8Array) return rng.chance(0.5) ? mutateBytes(rng, v, [], 4096) : v.subarray(0, rng.int(v.length + 1))
  if (rng.chance(0.2) && others.length) return cloneTree(rng.pick(others))
  return randomValue(rng)
}

/** Collects every container in a tree with its path depth (for picking a mutation site). */
function containers(v: unknown, out: Array<Record<string, unknown> | unknown[] | Map<unknown, unknown>>, depth = 0): void {
  if (!isContainer(v) || depth > 40 || out.length > 400) return
  out.push(v)
  for (const [, x] of entriesOf(v)) containers(x, out, depth + 1)
}

/** Applies 1–3 structure-aware mutations to a copy of `tree`; `others` are subtrees from other seeds to splice in. */
export function mutateTree(rng: Rng, tree: unknown, others: readonly unknown[]): unknown {
  const root = { v: cloneTree(tree) } as Record<string, unknown>
  const rounds = 1 + rng.int(3)
  for (let r = 0; r < rounds; r++) {
    const sites: Array<Record<string, unknown> | unknown[] | Map<unknown, unknown>> = []
    containers(root, sites)
    const site = rng.chance(0.15) ? root : rng.pick(sites)
    const kids = entriesOf(site)
    const op = rng.int(10)
    if (kids.length === 0 || op === 0) {
      // add an unknown key / element
      if (Array.isArray(site)) site.push(randomValue(rng))
      else setChild(site, rng.pick(['extra', '__proto__', 'type', 'v', 'id', 'msg', 'x']), randomValue(rng))
      continue
    }
    const [k, x] = rng.pick(kids)
    if (site === root && op <= 2) {
      root.v = mutateLeaf(rng, x, others)
      continue
    }
    switch (op) {
      case 1:
        deleteChild(site, k)
        break
      case 2:
        setChild(site, k, randomValue(rng))
        break
      case 3:
        // duplicate array elements (growth) or wrap a value
        if (Array.isArray(site)) site.push(...Array.from({ length: rng.chance(0.1) ? rng.pick([50, 300]) : rng.pick([1, 2]) }, () => cloneTree(x)))
        else setChild(site, k, [x])
        break
      case 4:
        if (others.length) setChild(site, k, cloneTree(rng.pick(others)))
        break
      default:
        if (isContainer(x) && rng.chance(0.3)) continue // descend next round
        setChild(site, k, mutateLeaf(rng, x, others))
    }
  }
  return root.v
}

/** Every subtree of the seeds (for splicing), capped. */
export function subtrees(seeds: readonly unknown[], cap = 300): unknown[] {
  const out: unknown[] = []
  const walk = (v: unknown, d: number) => {
    if (out.length >= cap || d > 12) return
    out.push(v)
    if (isContainer(v)) for (const [, x] of entriesOf(v)) walk(x, d + 1)
  }
  for (const s of seeds) walk(s, 0)
  return out
}
