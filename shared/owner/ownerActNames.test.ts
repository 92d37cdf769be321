import { describe, expect, it } from 'vitest'
import { OWNER_ACT_NAMES, isOwnerActName } from './ownerActNames.js'
import { OWNER_ACT_TYPES, isOwnerActType } from './ownerActTypes.js'

describe('isOwnerActName (the signer’s act check without the act schemas)', () => {
  it('lists exactly the acts of OWNER_ACT_TYPES, in no other order-dependent way', () => {
    expect([...OWNER_ACT_NAMES].sort()).toEqual(Object.keys(OWNER_ACT_TYPES).sort())
  })
  it('answers as isOwnerActType on the acts, near misses and prototype keys', () => {
    const probes = [...OWNER_ACT_NAMES, ...OWNER_ACT_NAMES.map((n) => n.toLowerCase()), ...OWNER_ACT_NAMES.map((n) => `${n} `), '', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'Bogus']
    for (const p of probes) expect(isOwnerActName(p), p).toBe(isOwnerActType(p))
  })
})
