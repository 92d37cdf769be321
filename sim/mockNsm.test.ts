import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { AWS_NITRO_ROOT_G1_PEM } from '../shared/attestation/awsNitroRootG1.js'
import { computeAttestationUserData } from '../shared/attestation/commitment.js'
import { verifyAttestation } from '../shared/attestation/verifyAttestation.js'
import { createMockNsm } from './mockNsm.js'
import { SIMULATION_FILES } from './loadSimulationPki.js'

function setup(bundle = 'export default "enclave v1"\n') {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-mocknsm-'))
  const measuredFile = join(dir, 'enclave.js')
  writeFileSync(measuredFile, bundle)
  return { dir, measuredFile, pkiDir: join(dir, 'pki') }
}

const inputs = {
  configVersion: 'sim-1',
  stateVersion: 7,
  policySetHash: `0x${'ab'.repeat(32)}`,
  auditHead: { seq: 12, hash: `0x${'cd'.repeat(32)}` },
  wallets: ['0x00000000000000000000000000000000000000aA'],
}

describe('createMockNsm', () => {
  it('produces Nitro-format documents that verify against the simulation root only', async () => {
    const { measuredFile, pkiDir } = setup()
    const nsm = createMockNsm({ pkiDir, measuredFile })
    const nonce = randomBytes(32)
    const publicKey = randomBytes(44)
    const userData = computeAttestationUserData(inputs)
    const bytes = await nsm.attest({ nonce, publicKey, userData })

    // Exactly the NSM's shape: untagged 4-array, protected a1013822, empty unprotected, 96-byte signature.
    const cose = decode(bytes, { useMaps: true }) as [Uint8Array, Map<unknown, unknown>, Uint8Array, Uint8Array]
    expect(bytes[0]).toBe(0x84)
    expect(Buffer.from(cose[0]).toString('hex')).toBe('a1013822')
    expect(cose[1].size).toBe(0)
    expect(cose[3].length).toBe(96)
    const payload = decode(cose[2], { useMaps: true }) as Map<string, unknown>
    expect([...payload.keys()]).toEqual(['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce'])
    const pcrs = payload.get('pcrs') as Map<number, Uint8Array>
    expect([...pcrs.keys()]).toEqual([...Array(16).keys()])
    expect([...pcrs.values()].every((v) => v.length === 48)).toBe(true)
    expect(payload.get('module_id')).toMatch(/^i-sim[0-9a-f]{14}-enc[0-9a-f]{16}$/)

    const root = readFileSync(nsm.rootPemPath, 'utf8')
    const doc = verifyAttestation(bytes, {
      root,
      maxAgeMs: 300_000,
      expectedNonce: nonce,
      expectedPublicKey: publicKey,
      expectedUserData: computeAttestationUserData(inputs),
      expectedPcrs: { 0: createHash('sha384').update(readFileSync(measuredFile)).digest('hex') },
    })
    expect(doc.debugMode).toBe(false)
    expect(doc.cabundle).toHaveLength(2)
    expect(() => verifyAttestation(bytes, { root: AWS_NITRO_ROOT_G1_PEM, maxAgeMs: 300_000 })).toThrow(
      expect.objectContaining({ code: 'attestation_root_mismatch' }),
    )
  })

  it('refuses a wrong nonce, a stale timestamp and a changed user_data commitment', async () => {
    const { measuredFile, pkiDir } = setup()
    let clock = Date.now() - 10 * 60_000
    const nsm = createMockNsm({ pkiDir, measuredFile, now: () => clock })
    const nonce = randomBytes(32)
    const stale = await nsm.attest({ nonce, userData: computeAttestationUserData(inputs) })
    clock = Date.now()
    const fresh = await nsm.attest({ nonce, userData: computeAttestationUserData({ ...inputs, stateVersion: 8 }) })
    const root = readFileSync(nsm.rootPemPath, 'utf8')
    const live = { root, maxAgeMs: 300_000 }
    expect(() => verifyAttestation(stale, { ...live, expectedNonce: nonce })).toThrow(expect.objectContaining({ code: 'attestation_too_old' }))
    expect(() => verifyAttestation(fresh, { ...live, expectedNonce: randomBytes(32) })).toThrow(
      expect.objectContaining({ code: 'attestation_nonce_mismatch' }),
    )
    expect(() => verifyAttestation(fresh, { ...live, expectedUserData: computeAttestationUserData(inputs) })).toThrow(
      expect.objectContaining({ code: 'attestation_user_data_mismatch' }),
    )
  })

  it('PCR0 is the SHA-384 of the measured file and changes with it; PCR1/PCR2 non-zero', () => {
    const a = setup('code A')
    const b = setup('code B')
    const nsmA = createMockNsm({ pkiDir: a.pkiDir, measuredFile: a.measuredFile })
    const nsmB = createMockNsm({ pkiDir: b.pkiDir, measuredFile: b.measuredFile })
    const hex = (m: ReadonlyMap<number, Uint8Array>, i: number) => Buffer.from(m.get(i)!).toString('hex')
    expect(hex(nsmA.pcrs, 0)).toBe(createHash('sha384').update('code A').digest('hex'))
    expect(hex(nsmA.pcrs, 0)).not.toBe(hex(nsmB.pcrs, 0))
    expect(hex(nsmA.pcrs, 2)).not.toBe(hex(nsmB.pcrs, 2))
    for (const i of [1, 2]) expect(hex(nsmA.pcrs, i)).not.toBe('00'.repeat(48))
    for (let i = 3; i < 16; i++) expect(hex(nsmA.pcrs, i)).toBe('00'.repeat(48))
  })

  it('stores the simulation PKI once under unmistakable names and reuses it', async () => {
    const { measuredFile, pkiDir } = setup()
    const first = createMockNsm({ pkiDir, measuredFile })
    const doc1 = await first.attest({})
    for (const name of Object.values(SIMULATION_FILES)) expect(existsSync(join(pkiDir, name))).toBe(true)
    expect(statSync(join(pkiDir, SIMULATION_FILES.rootKey)).mode & 0o077).toBe(0)
    const rootBefore = readFileSync(first.rootPemPath, 'utf8')
    const second = createMockNsm({ pkiDir, measuredFile })
    const doc2 = await second.attest({})
    expect(readFileSync(second.rootPemPath, 'utf8')).toBe(rootBefore)
    for (const bytes of [doc1, doc2]) expect(() => verifyAttestation(bytes, { root: rootBefore, at: 'document' })).not.toThrow()
  })

  it('re-issues the ~3 h leaf when it expires', async () => {
    const { measuredFile, pkiDir } = setup()
    let clock = Date.now()
    const nsm = createMockNsm({ pkiDir, measuredFile, now: () => clock })
    const leafOf = (b: Uint8Array) => (decode((decode(b, { useMaps: true }) as Uint8Array[])[2]!, { useMaps: true }) as Map<string, unknown>).get('certificate')
    const d1 = await nsm.attest({})
    expect(leafOf(await nsm.attest({}))).toEqual(leafOf(d1))
    clock += 3 * 3600_000
    const d3 = await nsm.attest({})
    expect(leafOf(d3)).not.toEqual(leafOf(d1))
    const root = readFileSync(nsm.rootPemPath, 'utf8')
    expect(() => verifyAttestation(d3, { root, at: 'document' })).not.toThrow()
    expect(() => verifyAttestation(d1, { root, at: clock })).toThrow(expect.objectContaining({ code: 'attestation_cert_expired' }))
  })

  it('refuses oversized request fields', async () => {
    const { measuredFile, pkiDir } = setup()
    const nsm = createMockNsm({ pkiDir, measuredFile })
    await expect(nsm.attest({ userData: new Uint8Array(513) })).rejects.toMatchObject({ code: 'nsm_invalid_request' })
    await expect(nsm.attest({ publicKey: new Uint8Array(0) })).rejects.toMatchObject({ code: 'nsm_invalid_request' })
  })
})
