import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonicalJson.js'

/** The map/filter/join implementation before issue 18's loops (cpu18): the output must not change by one byte. */
function reference(v: unknown): string {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(v)) throw new Error('non-finite')
      return JSON.stringify(v)
    case 'object': {
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`
      const obj = v as Record<string, unknown>
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`
    }
    default:
      throw new Error('unsupported')
  }
}

const outcome = (f: () => string): string => {
  try {
    return `ok:${f()}`
  } catch {
    return 'threw'
  }
}

describe('canonicalJson', () => {
  it('matches the reference byte for byte on any value (holes, undefined, non-finite, odd keys and strings)', () => {
    const value = fc.anything({ withSparseArray: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withBigInt: true, maxDepth: 4 })
    fc.assert(fc.property(value, (v) => {
      expect(outcome(() => canonicalJson(v))).toBe(outcome(() => reference(v)))
    }), { numRuns: 3000 })
    // Key order on either side of the insertion sort's limit (24 keys), astral and lone-surrogate keys (cpu18d).
    const keys = fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.string({ maxLength: 3 }))
    fc.assert(fc.property(fc.dictionary(keys, fc.oneof(fc.integer(), fc.string()), { minKeys: 0, maxKeys: 40 }), (v) => {
      expect(canonicalJson(v)).toBe(reference(v))
    }), { numRuns: 500 })
  })

  it('gives each call its own text when a getter calls it again, and quotes 700 odd keys alike (cpu37)', () => {
    const inner = { b: [1, 'x'], a: null }
    const v = { z: 1, get y() { return canonicalJson(inner) }, x: { w: 'q' } }
    expect(canonicalJson(v)).toBe(reference(v))
    expect(canonicalJson(v)).toBe('{"x":{"w":"q"},"y":"{\\"a\\":null,\\"b\\":[1,\\"x\\"]}","z":1}')
    // Keys with characters JSON escapes (the quote fast path must fall back to JSON.stringify for them).
    const many = Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`k${i}"\\\n${'x'.repeat(i % 90)}`, i]))
    expect(canonicalJson(many)).toBe(reference(many))
    expect(canonicalJson(many)).toBe(reference(many))
  })

  it('quotes string values as JSON.stringify does: every UTF-16 code unit, lone and paired surrogates, controls (cpu37)', () => {
    const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('"', '\\', '\u2028', '\u007f', '\ud83d\ude00'))
    fc.assert(fc.property(fc.array(fc.string({ unit, maxLength: 12 }), { maxLength: 6 }), (xs) => {
      expect(canonicalJson(xs)).toBe(reference(xs))
      expect(canonicalJson({ [xs.join('')]: xs.join('') })).toBe(reference({ [xs.join('')]: xs.join('') }))
    }), { numRuns: 3000 })
    for (let c = 0; c <= 0xffff; c++) expect(canonicalJson(String.fromCharCode(c))).toBe(JSON.stringify(String.fromCharCode(c)))
  })

  it('sorts keys, drops undefined members, keeps holes as empty and refuses what JSON cannot say', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, '\u00e9': { z: -0, y: 1.5 } })).toBe('{"a":[true,null,"x"],"b":1,"é":{"y":1.5,"z":0}}')
    // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
    expect(canonicalJson([1, , 3])).toBe('[1,,3]')
    expect(() => canonicalJson([undefined])).toThrow()
    expect(() => canonicalJson({ a: Number.NaN })).toThrow()
    expect(() => canonicalJson(1n)).toThrow()
    expect(canonicalJson('\ud800"\n')).toBe('"\\ud800\\"\\n"')
  })
})
