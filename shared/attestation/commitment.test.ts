import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AttestationUserDataInputsSchema, computeAttestationUserData } from './commitment.js'

const inputs = {
  configVersion: 'cfg-2025-01',
  stateVersion: 42,
  policySetHash: `0x${'AB'.repeat(32)}`,
  auditHead: { seq: 7, hash: `0x${'0f'.repeat(32)}` },
  wallets: ['0xBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
}

describe('computeAttestationUserData', () => {
  it('is "BURSAR01" ‖ SHA-256 of the documented canonical JSON (recomputed here by hand)', () => {
    const json =
      `{"auditHead":{"hash":"0x${'0f'.repeat(32)}","seq":7},"configVersion":"cfg-2025-01",` +
      `"policySetHash":"0x${'ab'.repeat(32)}","stateVersion":42,` +
      `"wallets":["0x${'a'.repeat(40)}","0x${'b'.repeat(40)}"]}`
    const expected = Buffer.concat([Buffer.from('BURSAR01'), createHash('sha256').update(json).digest()])
    const out = computeAttestationUserData(inputs)
    expect(out.length).toBe(40)
    expect(Buffer.from(out).toString('hex')).toBe(expected.toString('hex'))
  })

  it('ignores wallet order and hex case; changes with every input', () => {
    const hex = (i: typeof inputs) => Buffer.from(computeAttestationUserData(i)).toString('hex')
    const base = hex(inputs)
    expect(hex({ ...inputs, wallets: [...inputs.wallets].reverse().map((w) => w.toLowerCase()) })).toBe(base)
    expect(hex({ ...inputs, policySetHash: inputs.policySetHash.toLowerCase() })).toBe(base)
    expect(hex({ ...inputs, stateVersion: 43 })).not.toBe(base)
    expect(hex({ ...inputs, configVersion: 'cfg-2025-02' })).not.toBe(base)
    expect(hex({ ...inputs, auditHead: { ...inputs.auditHead, seq: 8 } })).not.toBe(base)
    expect(hex({ ...inputs, wallets: inputs.wallets.slice(1) })).not.toBe(base)
  })

  it('rejects malformed inputs', () => {
    expect(AttestationUserDataInputsSchema.safeParse({ ...inputs, extra: 1 }).success).toBe(false)
    expect(AttestationUserDataInputsSchema.safeParse({ ...inputs, policySetHash: '0x12' }).success).toBe(false)
    expect(AttestationUserDataInputsSchema.safeParse({ ...inputs, stateVersion: -1 }).success).toBe(false)
    expect(AttestationUserDataInputsSchema.safeParse({ ...inputs, wallets: [inputs.wallets[0], inputs.wallets[0]!.toLowerCase()] }).success).toBe(false)
  })
})
