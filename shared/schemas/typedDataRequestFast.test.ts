import { randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AgentRequestSchema } from './agentRequest.js'
import { typedDataRequestFast } from './typedDataRequestFast.js'
import { EIP3009_FIELDS } from './eip3009Types.js'

const hex = (n: number) => randomBytes(n).toString('hex')
const pickOne = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!

/** A request as the SDKs send it (their context optional, fields in a random order). */
function valid(): Record<string, unknown> {
  const now = Date.now()
  const shuffle = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(() => randomInt(3) - 1))
  const domain: Record<string, unknown> = { name: 'USDC', version: '2', chainId: pickOne([84532, '8453', 1]), verifyingContract: `0x${hex(20)}` }
  if (randomInt(4) === 0) domain.salt = `0x${hex(32)}`
  if (randomInt(4) === 0) delete domain.name
  const r: Record<string, unknown> = {
    v: 1, agentId: `agt_${hex(20)}`, wallet: `0x${hex(20)}`, nonce: hex(16), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
    typedData: shuffle({
      domain: shuffle(domain),
      types: { TransferWithAuthorization: EIP3009_FIELDS.map((f) => ({ ...f })), ...(randomInt(3) === 0 && { Other: [{ type: 'uint8', name: 'x' }] }) },
      primaryType: 'TransferWithAuthorization',
      message: { from: `0x${hex(20)}`, to: `0x${hex(20)}`, value: String(randomInt(1e9)), validAfter: '0', validBefore: String(now), nonce: `0x${hex(32)}`, ...(randomInt(4) === 0 && { nested: { a: [1, { b: 2 }] } }) },
    }),
  }
  if (randomInt(3) > 0) {
    const requirements: Record<string, unknown> = { scheme: 'exact', network: 'eip155:84532', asset: `0x${hex(20)}`, amount: '10000', payTo: `0x${hex(20)}`, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } }
    if (randomInt(3) === 0) delete requirements.extra
    if (randomInt(3) === 0) delete requirements.maxTimeoutSeconds
    r.context = shuffle({ resourceUrl: 'https://api.example.com/paid/report', reason: 'x402 payment', ...(randomInt(4) > 0 && { requirements: shuffle(requirements) }) })
  }
  return shuffle(r)
}

// Values that break one field: other types, bounds, patterns, and the keys zod treats specially.
const JUNK: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, '', 'x', '0x', '01', [], {}, [1], { a: 1 }, 'a'.repeat(281), 'a'.repeat(2049), `0x${'g'.repeat(40)}`, `agt_${'A'.repeat(40)}`, 'signTransaction', '2', 2]

/** Every path to a value inside `v` (objects and arrays). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [at]
  return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, Array.isArray(v) ? Number(k) : k]))]
}
/** A copy of `v` with the value at `path` replaced (or deleted, or a key added beside it). */
function mutate(v: Record<string, unknown>, path: (string | number)[]): string {
  const c = structuredClone(v)
  if (path.length === 0) return JSON.stringify(c)
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], c) // eslint-disable-line @typescript-eslint/no-explicit-any
  const last = path.at(-1)!
  const how = randomInt(4)
  if (how === 0 && !Array.isArray(parent)) delete parent[last]
  else if (how === 1 && !Array.isArray(parent)) parent[pickOne(['extra', 'permitId', 'dryRun', 'batchChannel', 'salt', 'name', 'type'])] = pickOne(JUNK)
  else parent[last] = pickOne(JUNK)
  const text = JSON.stringify(c)
  // JSON.parse makes a `__proto__` key an own property: put one in as text, beside the mutated key.
  return how === 3 && !Array.isArray(parent) && typeof last === 'string' ? text.replace(`"${last}":`, `"__proto__":{"x":1},"${last}":`) : text
}

/** Equal as zod made it: values, key order at every level, prototypes. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as never)[k], (b as never)[k]))
}

function check(text: string): 'fast' | 'zod-accepts' | 'zod-refuses' {
  const fast = typedDataRequestFast(JSON.parse(text))
  const zod = AgentRequestSchema.safeParse(JSON.parse(text))
  if (fast === undefined) return zod.success ? 'zod-accepts' : 'zod-refuses'
  // The fast path never accepts what zod refuses, and gives exactly zod's value (so the enclave's result is zod's).
  expect(zod.success, text).toBe(true)
  expect(same(fast, zod.data), text).toBe(true)
  return 'fast'
}

describe('typedDataRequestFast', () => {
  it('gives zod\'s value on the SDKs\' requests (key order too) and nothing zod would refuse, over 18,000 generated valid and one-field-broken requests', () => {
    const seen = { fast: 0, 'zod-accepts': 0, 'zod-refuses': 0 }
    for (let i = 0; i < 1_200; i++) {
      const v = valid()
      expect(check(JSON.stringify(v))).toBe('fast') // the hot shape takes the fast path
      const ps = paths(v)
      for (let m = 0; m < 14; m++) seen[check(mutate(v, pickOne(ps)))]++
    }
    // Both sides of the split are exercised: broken requests zod refuses, and valid ones the fast path leaves to zod.
    expect(seen['zod-refuses']).toBeGreaterThan(8_000)
    expect(seen['zod-accepts']).toBeGreaterThan(400)
    expect(seen.fast).toBeGreaterThan(2_000)
  })

  it('leaves every other shape to zod', () => {
    const v = valid()
    for (const other of [{ ...v, dryRun: true }, { ...v, permitId: 'p1' }, { ...v, op: 'signMessage', message: { text: 'hi' } }, { ...v, context: { batchChannel: {} } }]) {
      expect(typedDataRequestFast(JSON.parse(JSON.stringify(other)))).toBeUndefined()
    }
    expect(typedDataRequestFast(JSON.parse(JSON.stringify(v).replace('"v":1', '"v":1,"__proto__":{"v":1}')))).toBeUndefined()
  })
})
