/**
 * Issue 18 (host34): the host's exact checks of enclave answers against the zod schemas they stand in front of.
 * Property: for every input, exactResponseFrame / exactAgentSigned either say "not sure" (null: zod decides) or return
 * what zod returns for it (deep-equal, same key order, same JSON text) — so the host accepts and
 * refuses exactly what it did with zod alone, and stores and sends the same bytes. Inputs: real-shaped frames through
 * the real frame codec, and thousands of seeded mutations (keys dropped, added, reordered, retyped; numbers at the
 * edges; hex and checkpoint signatures respelt; undefined, null-prototype, class and array values; seals).
 */
import { isDeepStrictEqual } from 'node:util'
import { describe, expect, it } from 'vitest'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { RESULT_SCHEMAS, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { exactAgentSigned } from './exactAgentSigned.js'
import { exactResponseFrame } from './exactResponseFrame.js'
import { hasExactKeys } from './exactShape.js'

let seed = Number(process.env.EXACT_SEED ?? 0x5eed1234)
/** mulberry32: seeded, so a failure replays (EXACT_SEED). */
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
const hex = (bytes: number) => `0x${Array.from({ length: bytes * 2 }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('')}`

function checkpoint(levels: number, chain: boolean): Record<string, unknown> {
  const sig = levels < 0 ? hex(64) : `${hex(64)}.${Math.floor(rnd() * 2 ** levels)}${Array.from({ length: levels }, () => `.${hex(32).slice(2)}`).join('')}`
  return { seq: Math.floor(rnd() * 1e6), head: hex(32), time: 1_764_000_000_000 + Math.floor(rnd() * 1e6), ...(chain ? { chain: hex(16).slice(2) } : {}), signature: sig }
}
function signed(): Record<string, unknown> {
  const seq = Math.floor(rnd() * 1e6)
  return {
    signature: hex(65),
    signedHash: hex(32),
    ...(rnd() < 0.2 ? { serializedTransaction: hex(120) } : {}),
    receipt: { seq, ...(rnd() < 0.8 ? { walletSeq: Math.floor(rnd() * 1e5) } : {}), entryHash: hex(32), stateVersion: Math.floor(rnd() * 1e5), checkpoint: checkpoint(pick([-1, 0, 1, 3, 6]), rnd() < 0.3) },
  }
}
const entry = (seq: number) => `{"seq":${seq},"time":1764000000000,"event":"agent_sign","verdict":"allow","hash":"${hex(32)}","mac":"${hex(32)}"}`
function frame(): Record<string, unknown> {
  const persist = rnd() < 0.9 ? { persist: { entries: Array.from({ length: pick([0, 1, 1, 2, 5]) }, (_, i) => entry(i)), checkpoint: rnd() < 0.8 ? checkpoint(pick([-1, 2]), false) : null, sealed: null } } : {}
  if (rnd() < 0.75) return { id: Math.floor(rnd() * 2 ** 31), ok: true, result: signed(), ...persist }
  const error = { code: pick(['policy_denied', 'request_replayed', 'enclave_halted']), message: 'no', ...(rnd() < 0.5 ? { rule: 'cap' } : {}), ...(rnd() < 0.3 ? { remaining: '5' } : {}), ...(rnd() < 0.2 ? { pendingId: 'p1' } : {}), ...(rnd() < 0.2 ? { retryAfterMs: pick([0, 1.5, 100]) } : {}) }
  return { id: Math.floor(rnd() * 2 ** 31), ok: false, error, ...persist }
}

const ODD_VALUES: unknown[] = [
  undefined, null, true, 0, -0, -1, 1.5, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY, '', 'x', '0x', '0xAB', '0Xab', '0xzz', ' 0xab', '0xab\n',
  [], {}, Object.create(null), new Date(0), new Uint8Array(2), 1n, Symbol.for('s'),
]
/** Every path to a value inside v (objects and arrays), the root included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at]
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])))
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.push(...paths((v as Record<string, unknown>)[k], [...at, k]))
  return out
}
const clone = (v: unknown): unknown => structuredClone(v)
function getAt(v: unknown, p: (string | number)[]): unknown {
  return p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v)
}
/** One random mutation of a deep copy of v. */
function mutate(v: unknown, near = false): unknown {
  const c = clone(v)
  const ps = paths(c)
  const p = pick(ps)
  const target = getAt(c, p)
  const parent = p.length ? (getAt(c, p.slice(0, -1)) as Record<string | number, unknown>) : null
  const key = p.at(-1)
  // near: the mutations that may keep it valid (the accepting side gets probed too)
  switch (near ? pick([3, 4, 5, 6, 7]) : Math.floor(rnd() * 9)) {
    case 0: // replace with an odd value
      if (!parent) return pick(ODD_VALUES)
      parent[key!] = pick(ODD_VALUES)
      return c
    case 1: // drop the key
      if (parent && !Array.isArray(parent)) delete parent[key!]
      return c
    case 2: // add a key (known names too: another arm's keys)
      if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[pick(['x', 'error', 'result', 'persist', 'chain', 'walletSeq', 'sealed', 'dryRun', '__proto__'])] = pick(ODD_VALUES.concat(['ab', 3]))
      return c
    case 3: // reorder: move the first key to the end
      if (target && typeof target === 'object' && !Array.isArray(target)) {
        const o = target as Record<string, unknown>
        const k = Object.keys(o)[0]
        if (k !== undefined) {
          const x = o[k]
          delete o[k]
          o[k] = x
        }
      }
      return c
    case 4: // respell a string: upper case, a trailing byte, a dropped char, a leading zero index
      if (parent && typeof target === 'string') parent[key!] = pick([target.toUpperCase(), `${target}0`, target.slice(0, -1), target.replace(/\.(\d)/, '.0$1'), target.replace('0x', '0X')])
      return c
    case 5: // a number at an edge
      if (parent && typeof target === 'number') parent[key!] = pick([target + 0.5, -target - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, -0, `${target}`])
      return c
    case 6: // a null-prototype or class copy of an object
      if (parent && target && typeof target === 'object' && !Array.isArray(target)) parent[key!] = rnd() < 0.5 ? Object.assign(Object.create(null), target) : Object.assign(new (class Shape {})(), target)
      return c
    case 7: // a seal
      if (target && typeof target === 'object' && 'entries' in (target as object)) (target as Record<string, unknown>).sealed = { version: 3, auditSeq: 4, blob: new Uint8Array([1, 2]) }
      return c
    default: // two mutations
      return mutate(c, near)
  }
}

const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))
function sameAsZod(exact: unknown, zod: { success: boolean; data?: unknown }, input: unknown): void {
  if (exact === null) return
  expect(zod.success, `exact accepted what zod refuses: ${text(input)}`).toBe(true)
  expect(isDeepStrictEqual(exact, zod.data)).toBe(true)
  expect(text(exact)).toBe(text(zod.data)) // key order: the stored and sent answer text
}

describe('exact answer checks = zod (issue 18, host34)', () => {
  it('real-shaped frames through the frame codec: the exact checks take them, and agree with zod', () => {
    let hits = 0
    for (let i = 0; i < 500; i++) {
      // The codec sorts map keys (length first): the host never gets the schema's order.
      const f = decodeFrameBody(encodeFrame(frame()).subarray(4))
      const exact = exactResponseFrame(f)
      expect(exact).not.toBeNull() // else the fast path is silently off
      sameAsZod(exact, ResponseFrameSchema.safeParse(f), f)
      const r = (f as { ok: boolean; result?: unknown }).ok ? (f as { result: unknown }).result : null
      if (r) {
        const e = exactAgentSigned(r)
        expect(e).not.toBeNull()
        sameAsZod(e, RESULT_SCHEMAS.agentSign.safeParse(r), r)
        hits++
      }
    }
    expect(hits).toBeGreaterThan(300)
  })

  it('8,000 mutated frames and results: never accepted unless zod accepts them and returns the same object', () => {
    let exactFrames = 0
    let zodFrames = 0
    let exactResults = 0
    let zodResults = 0
    for (let i = 0; i < 4_000; i++) {
      // The result is z.unknown() in the frame schema: a small one, so the mutations land on what the frame checks.
      const base = { ...frame(), ...(rnd() < 0.9 ? { result: pick([1, 'x', null, { a: 1 }]) } : {}) }
      const f = mutate(rnd() < 0.5 ? base : decodeFrameBody(encodeFrame(base).subarray(4)), rnd() < 0.5)
      const zf = ResponseFrameSchema.safeParse(f)
      const ef = exactResponseFrame(f)
      sameAsZod(ef, zf, f)
      if (ef) exactFrames++
      if (zf.success) zodFrames++
      const r = mutate(signed(), rnd() < 0.5)
      const zr = RESULT_SCHEMAS.agentSign.safeParse(r)
      const er = exactAgentSigned(r)
      sameAsZod(er, zr, r)
      if (er) exactResults++
      if (zr.success) zodResults++
    }
    if (process.env.SHOW) console.log({ exactFrames, zodFrames, exactResults, zodResults })
    // The mutations reach both sides of the line (some survive, most are refused or left to zod).
    expect(exactFrames).toBeGreaterThan(200)
    expect(exactResults).toBeGreaterThan(200)
    expect(4_000 - zodFrames).toBeGreaterThan(400)
    expect(4_000 - zodResults).toBeGreaterThan(400)
    // What zod accepts, the exact checks mostly take too (else they save little): the rest are seals and such.
    expect(exactFrames / zodFrames).toBeGreaterThan(0.8)
    expect(exactResults / zodResults).toBeGreaterThan(0.8)
  })

  it('the remembered signature text: a refused spelling stays refused when it comes again, a genuine one after it is taken', () => {
    const s = signed() as { receipt: { checkpoint: { signature: string } } }
    const good = s.receipt.checkpoint.signature
    const bad = { ...s, receipt: { ...s.receipt, checkpoint: { ...s.receipt.checkpoint, signature: good.toUpperCase().replace('0X', '0x') } } }
    expect(exactAgentSigned(s)).not.toBeNull()
    for (let i = 0; i < 2; i++) {
      expect(exactAgentSigned(bad)).toBeNull()
      expect(RESULT_SCHEMAS.agentSign.safeParse(bad).success).toBe(false)
    }
    expect(exactAgentSigned(s)).not.toBeNull()
  })

  it('left to zod: a seal, a dry run, an inherited key; the output in the schema\'s key order whatever the input\'s', () => {
    const f = frame()
    const sealed = { ...f, persist: { entries: [], checkpoint: null, sealed: { version: 1, auditSeq: 0, blob: new Uint8Array(1) } } }
    expect(ResponseFrameSchema.safeParse(sealed).success).toBe(true)
    expect(exactResponseFrame(sealed)).toBeNull()
    const { id, ...rest } = f
    const moved = { ...rest, id }
    expect(Object.keys(exactResponseFrame(moved)!)).toEqual(Object.keys(ResponseFrameSchema.parse(moved)))
    expect(Object.keys(exactResponseFrame(moved)!)[0]).toBe('id')
    expect(exactAgentSigned({ dryRun: true, verdict: 'allow', spends: [] })).toBeNull()
    const s = signed()
    expect(exactAgentSigned(Object.assign(Object.create({ extra: 1 }), s))).toBeNull()
  })
  it('host40: keys by for…in — an enumerable key on Object.prototype (a polluted prototype) makes every check unsure', () => {
    expect(hasExactKeys({ a: 1, b: 2 }, ['a'], ['b'])).toBe(true)
    expect(hasExactKeys({ a: 1 }, ['a'], ['b'])).toBe(true)
    expect(hasExactKeys({ a: 1, c: 2 }, ['a'], ['b'])).toBe(false)
    expect(hasExactKeys({ b: 2 }, ['a'], ['b'])).toBe(false)
    expect(hasExactKeys({ a: 1, b: undefined }, ['a'], ['b'])).toBe(false)
    const s = signed()
    expect(exactAgentSigned(s)).not.toBeNull()
    // Restored in finally: the process-wide prototype is left as found.
    Object.defineProperty(Object.prototype, 'serializedTransaction', { value: '0x00', enumerable: true, configurable: true, writable: true })
    try {
      expect(hasExactKeys({ a: 1 }, ['a'], ['serializedTransaction'])).toBe(false)
      expect(exactAgentSigned(s)).toBeNull()
    } finally {
      delete (Object.prototype as Record<string, unknown>).serializedTransaction
    }
    expect(exactAgentSigned(s)).not.toBeNull()
  })
})
