import { randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DecodedActionSchema, type DecodedAction } from '../../shared/schemas/decodedAction.js'
import { LONE_SURROGATE } from './decodeMessage.js'
import { eip3009InBounds } from './eip3009InBounds.js'

const hex = (n: number) => `0x${randomBytes(n).toString('hex')}`
/** As decodeEip3009 builds it (its key order). */
const action = (): Record<string, unknown> => ({
  kind: 'eip3009', primaryType: randomInt(2) ? 'TransferWithAuthorization' : 'ReceiveWithAuthorization', chainId: [1, 8453, 84532][randomInt(3)],
  asset: hex(20), amount: String(randomInt(2 ** 40)), payTo: hex(20), from: hex(20), validAfter: randomInt(2 ** 32), validBefore: randomInt(2 ** 32), nonce: hex(32),
})
const JUNK: unknown[] = [null, undefined, -1, 0, 1.5, 2 ** 53, NaN, '', '0', '01', `1${'0'.repeat(78)}`, hex(19), hex(21), hex(32), `${hex(19)}gg`, '\ud800', `0x${'a'.repeat(39)}\udc00`,
  { toString: () => hex(20) }, [hex(20)], 'TransferWithAuthorization', 'PermitTransferFrom', 'eip3009', 'upto']
const loneSurrogate = (v: unknown): boolean => typeof v === 'string' && LONE_SURROGATE.test(v)

describe('eip3009InBounds', () => {
  it('accepts only what DecodedActionSchema accepts, never a lone surrogate, over 20,000 generated and one-field-broken actions', () => {
    let fast = 0, schemaOnly = 0
    for (let i = 0; i < 20_000; i++) {
      const a = action()
      const keys = Object.keys(a)
      const how = i === 0 ? -1 : randomInt(5)
      if (how === 0) delete a[keys[randomInt(keys.length)]!]
      else if (how === 1) a[['extra', 'kind', 'signedBefore'][randomInt(3)]!] = JUNK[randomInt(JUNK.length)]
      else if (how === 2) a[keys[randomInt(keys.length)]!] = JUNK[randomInt(JUNK.length)]
      else if (how === 3) { const k = keys[randomInt(keys.length - 1)]!, v = a[k]; delete a[k]; a[k] = v } // another key order
      const ok = eip3009InBounds(a as DecodedAction)
      const schema = DecodedActionSchema.safeParse(a).success
      if (ok) {
        expect(schema, JSON.stringify(a)).toBe(true)
        expect(Object.entries(a).some(([k, v]) => loneSurrogate(k) || loneSurrogate(v))).toBe(false)
        fast++
      } else if (schema) schemaOnly++
      if (how === -1 || how === 4) expect(ok).toBe(true) // the decoder's own actions take the direct path
    }
    expect(fast).toBeGreaterThan(4_000)
    expect(schemaOnly).toBeGreaterThan(100) // valid actions it leaves to the schema (another key order)
  })
})
