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
