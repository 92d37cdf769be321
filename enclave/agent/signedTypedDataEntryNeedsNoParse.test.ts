import { describe, expect, it } from 'vitest'
import { AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { dispatch } from '../protocol/dispatch.js'

/**
 * rt34b, attack on enc34's skipped parse of the allowed sign entry, for the kind that keeps the agent's whole input:
 * typed_data (the whole EIP-712 JSON lands in the entry's action). Generated structs: field names at the edges of
 * the identifier rule (`$`, `_`, `toString`, `valueOf`, `hasOwnProperty`, digits, `__proto__`/`constructor` which the
 * decoder refuses), nested structs and arrays, integers as JSON numbers (-0, 1e21, 2^53+1 as numbers and strings),
 * strings of any UTF-16 (quotes, U+2028, NUL, emoji, lone surrogates), bytes, bools, domain chainId as number or
 * string. Property: an allowed request's entry is one the entry schema accepts and whose parse is the identity
 * (canonical JSON of the parse of the stored text equals the hashed text): the replay after restart
 * (loadState.parseReplayed hashes the parse) and every verifier get the same hash.
 */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32)
}
const NAMES = ['a', '$', '_', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'b1', '__proto__', 'constructor', 'x_y', '$0']
const TEXT = ['a', '"', '\\', '\u2028', '\u0000', '\ud83d\ude00', '\ud800', 'é', '}', ',"hash":"0x']

describe('enclave: the allowed typed_data entry skips its schema parse (rt34b)', () => {
  it('generated typed data: every allowed request yields an entry the schema accepts unchanged', async () => {
    const { enclave, wallet, agent, clock } = await paymentEnclave({
      perTx: '1000000', rolling24h: '1000000000000',
      rules: [{ id: 'td', effect: 'allow', kinds: ['typed_data'], typedData: [{ domainName: 'Mail', primaryTypes: ['Mail'] }] }],
    })
    const rand = rng(0x34b)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!
    const text = () => Array.from({ length: Math.floor(rand() * 6) }, () => pick(TEXT)).join('')
    const atomic = (): [string, unknown] => {
      switch (Math.floor(rand() * 7)) {
        case 0: return ['string', text()]
        case 1: return ['uint256', pick<unknown>([0, -0, 1, 2 ** 53 + 1, 1e21, '0', '115792089237316195423570985008687907853269984665640564039457584007913129639935', '1e3', 1.5])]
        case 2: return ['int64', pick<unknown>([-1, -0, '-9223372036854775808', -(2 ** 53)])]
        case 3: return ['bool', pick<unknown>([true, false, 'true'])]
        case 4: return ['bytes', pick(['0x', '0xabCD', '0xabc'])]
        case 5: return ['bytes32', `0x${'Ab'.repeat(32)}`]
        default: return ['address', pick(['0x209693Bc6afc0C5328bA36FaF03C514EF312287C', '0x209693bc6afc0c5328ba36faf03c514ef312287c'])]
      }
    }
    let [allowed, refused] = [0, 0]
    for (let i = 0; i < 200; i++) {
      clock.t += 1
      const fields: { name: string; type: string }[] = []
      const message: Record<string, unknown> = {}
      const inner: { name: string; type: string }[] = [{ name: pick(NAMES), type: 'string' }]
      const innerValue = () => Object.fromEntries([[inner[0]!.name, text()]])
      for (let n = 1 + Math.floor(rand() * 4), k = 0; k < n; k++) {
        const name = pick(NAMES)
        if (rand() < 0.2) {
          const arr = rand() < 0.5
          fields.push({ name, type: arr ? 'Inner[]' : 'Inner' })
          message[name] = arr ? [innerValue(), innerValue()] : innerValue()
        } else {
          const [type, value] = atomic()
          fields.push({ name, type })
          message[name] = value
        }
      }
      const types: Record<string, { name: string; type: string }[]> = { Mail: fields, ...(fields.some((f) => f.type.startsWith('Inner')) ? { Inner: inner } : {}) }
      const domain = { name: 'Mail', version: '1', chainId: rand() < 0.5 ? 84532 : '84532', verifyingContract: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' }
      const operation = { op: 'signTypedData' as const, typedData: { domain, types, primaryType: 'Mail', message } }
      const r = signAgentRequest({ agent, wallet, operation: operation as never, issuedAt: clock.t })
      const res = await dispatch(enclave, { type: 'agentSign', request: r.request, signature: r.signature })
      if (!res.ok) {
        refused++
        continue
      }
      allowed++
      const stored = res.persist!.entries.at(-1)!
      const hashed = `${stored.slice(0, stored.lastIndexOf(',"hash":"0x'))}}`
      const entry = JSON.parse(hashed) as Record<string, unknown>
      expect(entry.event).toBe('sign_allowed')
      const parsed = AuditEntrySchema.safeParse(entry)
      expect(parsed.success, `${parsed.error?.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`).toBe(true)
      expect(canonicalJson(parsed.data)).toBe(hashed)
    }
    if (process.env.SHOW) console.log({ allowed, refused })
    expect(allowed).toBeGreaterThan(20)
    expect(refused).toBeGreaterThan(20)
  })
})
