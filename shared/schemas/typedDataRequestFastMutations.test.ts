import { randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AgentRequestSchema } from './agentRequest.js'
import { typedDataRequestFast } from './typedDataRequestFast.js'
import { EIP3009_FIELDS } from './eip3009Types.js'
// biome-ignore lint/suspicious/noExplicitAny: generated JSON walked by path
type J = any
const hex = (n: number) => randomBytes(n).toString('hex')
const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!
function valid(): J {
  const now = Date.now()
  return { v: 1, agentId: `agt_${hex(20)}`, wallet: `0x${hex(20)}`, nonce: hex(16), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
    typedData: { domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: `0x${hex(20)}`, salt: `0x${hex(32)}` },
      types: { TransferWithAuthorization: EIP3009_FIELDS.map((f) => ({ ...f })), EIP712Domain: [{ name: 'name', type: 'string' }] }, primaryType: 'TransferWithAuthorization',
      message: { from: `0x${hex(20)}`, to: `0x${hex(20)}`, value: '5', validAfter: '0', validBefore: String(now), nonce: `0x${hex(32)}`, deep: { a: [1] } } },
    context: { resourceUrl: 'https://x', reason: 'r', requirements: { scheme: 'exact', network: 'n', asset: 'a', amount: '1', payTo: 'p', maxTimeoutSeconds: 30, extra: { name: 'USDC' } } } }
}
const JUNK: unknown[] = [null, true, false, 0, -0, -1, 1.5, 1e21, 2 ** 53, 2 ** 48, -(2 ** 53), '', '\ud800', 'é', '0', '00', '-1', '+1', '1e3', ' 1', '0x', '0X' + 'a'.repeat(40), '0x' + 'A'.repeat(40), '0x' + 'a'.repeat(40) + '\n', [], {}, [{}], { name: 'x' }, { name: 'x', type: 'y' }, { name: 'x', type: 'y', z: 1 }, 'a'.repeat(2048), 'a'.repeat(2049), '\u{1F600}'.repeat(141), '\u{1F600}'.repeat(140), 'x'.repeat(280), 'agt_' + 'a'.repeat(40) + '\n', 1, '1', 2, 'signTypedData']
const KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '0', '1', 'extra', 'permitId', 'dryRun', 'batchChannel', 'authCapture', 'salt', 'name', 'type', '', 'é', 'undefined']
function paths(v: J, at: J[] = []): J[][] { if (typeof v !== 'object' || v === null) return [at]; return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, Array.isArray(v) ? Number(k) : k]))] }
function same(a: J, b: J): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Reflect.ownKeys(a), kb = Reflect.ownKeys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]))
}
/**
 * rt38b on cpu38's fast parse: one to three mutations at once (keys moved, deleted, added: `__proto__` as JSON text at
 * any level, `constructor`, numeric keys; values: -0, 1e21, lone surrogates, padded hex, strings at and past their
 * bounds), and duplicate keys in the text. Whenever the fast path answers, zod accepts and gives the same value (key
 * order and prototypes included). 40,000 held at the time; 4,000 here.
 */
describe('typedDataRequestFast against zod, several mutations at once', () => {
it('never accepts what zod refuses nor gives another value', () => {
  let fast = 0, n = 0
  for (let i = 0; i < 4_000; i++) {
    const v = valid()
    let text = JSON.stringify(v)
    const muts = 1 + randomInt(3)
    const c = structuredClone(v)
    const extra: string[] = []
    for (let m = 0; m < muts; m++) {
      const ps = paths(c); const p = pick(ps); if (p.length === 0) continue
      let parent: J; try { parent = p.slice(0, -1).reduce((o: J, k: J) => o[k], c) } catch { continue }
      if (typeof parent !== 'object' || parent === null) continue
      const how = randomInt(5)
      if (how === 0 && !Array.isArray(parent)) delete parent[p.at(-1)]
      else if (how === 1 && !Array.isArray(parent)) { const k = pick(KEYS); if (k === '__proto__') extra.push(p.slice(0, -1).join('.')); else parent[k] = structuredClone(pick(JUNK)) }
      else if (how === 2) { const keys = Object.keys(parent); if (!Array.isArray(parent) && keys.length) { const k = pick(keys); const x = parent[k]; delete parent[k]; parent[k] = x } }
      else parent[p.at(-1)] = structuredClone(pick(JUNK))
    }
    text = JSON.stringify(c)
    for (const at of extra) { const key = at.split('.').at(-1); if (key) text = text.replace(`"${key}":{`, `"${key}":{"__proto__":${pick(['{"x":1}', '[]', 'null', '1', '{"name":"a","type":"b"}'])},`) }
    // duplicate keys in JSON text
    if (randomInt(10) === 0) text = text.replace('"op":"signTypedData"', '"op":"signMessage","op":"signTypedData"')
    let j1, j2; try { j1 = JSON.parse(text); j2 = JSON.parse(text) } catch { continue }
    const f = typedDataRequestFast(j1); const z = AgentRequestSchema.safeParse(j2); n++
    if (f !== undefined) { fast++; if (!z.success || !same(f, z.data)) { expect.fail(`diverged on ${text}: ${JSON.stringify(z)}`) } }
  }
  expect(fast).toBeGreaterThan(500)
  expect(n - fast).toBeGreaterThan(2_000)
})
})
