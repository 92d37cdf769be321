import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentInfo, EnvelopedData } from '@peculiar/asn1-cms'
import { AsnParser } from '@peculiar/asn1-schema'
import * as asn1js from 'asn1js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OAEP_256, haveOpenssl, opensslEncrypt } from '../../test/kms/opensslCms.js'
import { OAEP_PARAMS } from './parseCiphertextForRecipient.js'

/**
 * diet37: the RSAES-OAEP-params of a KMS answer are checked against the set of accepted DER encodings (OAEP_PARAMS),
 * not read field by field. `oldAccepts` is the reader this replaced (enclave/kms/parseCiphertextForRecipient.ts at
 * 1976995, verbatim but for returning a boolean). On generated parameters: the new check accepts nothing the old one
 * refused, and accepts every DER form the old one accepted (ordered fields, short lengths, no trailing bytes, the
 * hashes' parameters absent or NULL). What the old one also accepted and the new one refuses: non-DER lengths,
 * reordered or repeated fields, trailing bytes, and any parameters (other than NULL) on the two SHA-256 identifiers.
 */
const OID_MGF1 = '1.2.840.113549.1.1.8'
const OID_SHA256 = '2.16.840.1.101.3.4.2.1'
const OID_P_SPECIFIED = '1.2.840.113549.1.1.9'
class Refused extends Error {}
const malformed = (why: string): never => {
  throw new Refused(why)
}
const unsupported = malformed
function ber(view: Uint8Array, what: string): { offset: number; result: asn1js.AsnType } {
  let parsed: ReturnType<typeof asn1js.fromBER>
  try {
    parsed = asn1js.fromBER(view)
  } catch {
    return malformed(`${what} does not parse`)
  }
  if (parsed.offset === -1 || parsed.result.error) malformed(`${what} is not valid BER`)
  return parsed
}
function checkOaepParams(params: ArrayBuffer | null | undefined): void {
  if (params === null || params === undefined) unsupported('RSAES-OAEP parameters absent (SHA-1 defaults are refused)')
  const seq = ber(new Uint8Array(params!), 'RSAES-OAEP-params').result
  if (!(seq instanceof asn1js.Sequence)) malformed('RSAES-OAEP-params is not a SEQUENCE')
  let hash: string | null = null
  let mgf: { oid: string; params: asn1js.AsnType | undefined } | null = null
  for (const field of (seq as asn1js.Sequence).valueBlock.value) {
    const { tagClass, tagNumber } = field.idBlock
    const inner = field instanceof asn1js.Constructed ? field.valueBlock.value : []
    if (tagClass !== 3 || inner.length !== 1) malformed('RSAES-OAEP-params field is not an explicit context tag')
    const id = algorithmIdentifier(inner[0]!)
    if (tagNumber === 0) hash = id.oid
    else if (tagNumber === 1) mgf = id
    else if (tagNumber === 2) {
      const label = id.params
      if (id.oid !== OID_P_SPECIFIED || !(label instanceof asn1js.OctetString) || label.valueBlock.valueHexView.length !== 0) {
        unsupported('OAEP label must be empty')
      }
    } else malformed(`unexpected RSAES-OAEP-params field [${tagNumber}]`)
  }
  if (hash !== OID_SHA256) unsupported('OAEP hash is not SHA-256')
  if (mgf === null || mgf.oid !== OID_MGF1 || mgf.params === undefined) unsupported('OAEP mask generation is not MGF1 with SHA-256')
  if (algorithmIdentifier(mgf!.params!).oid !== OID_SHA256) unsupported('OAEP MGF1 hash is not SHA-256')
}
function algorithmIdentifier(node: asn1js.AsnType): { oid: string; params: asn1js.AsnType | undefined } {
  if (!(node instanceof asn1js.Sequence)) malformed('AlgorithmIdentifier is not a SEQUENCE')
  const [oid, params, extra] = (node as asn1js.Sequence).valueBlock.value
  if (!(oid instanceof asn1js.ObjectIdentifier) || extra !== undefined) malformed('AlgorithmIdentifier is malformed')
  return { oid: (oid as asn1js.ObjectIdentifier).valueBlock.toString(), params: params instanceof asn1js.Null ? undefined : params }
}
function oldAccepts(hex: string): boolean {
  try {
    checkOaepParams(new Uint8Array(Buffer.from(hex, 'hex')).buffer)
    return true
  } catch (e) {
    if (e instanceof Refused) return false
    throw e
  }
}
const newAccepts = (hex: string) => OAEP_PARAMS.has(hex)

// A model of RSAES-OAEP-params: explicit-tagged fields of AlgorithmIdentifiers, rendered with short or long lengths.
const OIDS = { sha256: '0609608648016503040201', sha1: '06052b0e03021a', sha384: '0609608648016503040202', mgf1: '06092a864886f70d010108', pSpecified: '06092a864886f70d010109' }
type Param = { k: 'none' } | { k: 'null' } | { k: 'int' } | { k: 'octet'; hex: string } | { k: 'alg'; alg: Alg }
type Alg = { oid: keyof typeof OIDS; param: Param }
type Model = { fields: Array<{ tag: number; alg: Alg }>; trailing: boolean; long: boolean }
const leafParam = fc.oneof(fc.constant<Param>({ k: 'none' }), fc.constant<Param>({ k: 'null' }), fc.constant<Param>({ k: 'int' }), fc.constantFrom('', 'ab').map((hex): Param => ({ k: 'octet', hex })))
const oid = fc.constantFrom(...(Object.keys(OIDS) as Array<keyof typeof OIDS>))
const leafAlg = fc.record({ oid, param: leafParam })
const alg = fc.record({ oid, param: fc.oneof(leafParam, leafAlg.map((a): Param => ({ k: 'alg', alg: a }))) })
// Mostly the right fields in order with the right algorithms (so both checks accept often), sometimes anything.
const sha = fc.record({ oid: fc.constantFrom<'sha256' | 'sha1'>('sha256', 'sha256', 'sha256', 'sha1'), param: fc.constantFrom<Param>({ k: 'none' }, { k: 'null' }, { k: 'null' }, { k: 'int' }) })
const likely = fc.tuple(sha, sha, fc.constantFrom<Param>({ k: 'octet', hex: '' }, { k: 'octet', hex: '' }, { k: 'null' }), fc.boolean(), fc.boolean()).map(([h, m, label, withLabel, swap]) => {
  const f = [{ tag: 0, alg: h }, { tag: 1, alg: { oid: 'mgf1' as const, param: { k: 'alg' as const, alg: m } } }, ...(withLabel ? [{ tag: 2, alg: { oid: 'pSpecified' as const, param: label } }] : [])]
  return swap ? f.reverse() : f
})
const model: fc.Arbitrary<Model> = fc.record({
  fields: fc.oneof({ weight: 4, arbitrary: likely }, { weight: 1, arbitrary: fc.array(fc.record({ tag: fc.integer({ min: 0, max: 3 }), alg }), { maxLength: 4 }) }),
  trailing: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  long: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
})
function render(m: Model): string {
  const tlv = (tag: string, content: string) => {
    const n = content.length / 2
    return `${tag}${m.long ? `81${n.toString(16).padStart(2, '0')}` : n.toString(16).padStart(2, '0')}${content}`
  }
  const param = (p: Param): string => (p.k === 'none' ? '' : p.k === 'null' ? '0500' : p.k === 'int' ? '020100' : p.k === 'octet' ? tlv('04', p.hex) : algId(p.alg))
  const algId = (a: Alg): string => tlv('30', OIDS[a.oid] + param(a.param))
  return tlv('30', m.fields.map((f) => tlv((0xa0 + f.tag).toString(16), algId(f.alg))).join('')) + (m.trailing ? '00' : '')
}
/** A DER form: short lengths, no trailing bytes, fields strictly ascending, the SHA-256 identifiers' parameters absent or NULL. */
function der(m: Model): boolean {
  const plain = (p: Param) => p.k === 'none' || p.k === 'null'
  const f = m.fields
  return !m.long && !m.trailing && f.every((x, i) => i === 0 || f[i - 1]!.tag < x.tag) && f.every((x) =>
    x.tag === 0 ? plain(x.alg.param) : x.tag === 1 ? x.alg.param.k === 'alg' && plain(x.alg.param.alg.param) : true)
}

describe('the accepted RSAES-OAEP-params (diet37)', () => {
  it('accepts nothing the field-by-field reader refused, and every DER form it accepted', () => {
    let both = 0
    let oldOnly = 0
    fc.assert(
      fc.property(model, (m) => {
        const hex = render(m)
        const [o, n] = [oldAccepts(hex), newAccepts(hex)]
        if (n) expect(o).toBe(true)
        if (o && der(m)) expect(n).toBe(true)
        if (o && n) both++
        if (o && !n) oldOnly++
      }),
      { numRuns: 4_000 },
    )
    // Both sides of the property were exercised.
    expect(both).toBeGreaterThan(100)
    expect(oldOnly).toBeGreaterThan(10)
  })

  it('holds exactly the eight DER forms, each accepted by the old reader; byte mutations of them are refused', () => {
    expect(OAEP_PARAMS.size).toBe(8)
    for (const hex of OAEP_PARAMS) {
      expect(oldAccepts(hex)).toBe(true)
      for (let i = 0; i < hex.length / 2; i++) {
        const b = Buffer.from(hex, 'hex')
        b[i]! ^= 0x01
        expect(newAccepts(b.toString('hex'))).toBe(false)
      }
    }
  })

  const vector = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/vectors/nitro/kms_cms_envelopeddata_constructed.ber')
  const paramsOf = (cms: Uint8Array) => {
    const ed = AsnParser.parse(AsnParser.parse(cms, ContentInfo).content, EnvelopedData)
    return Buffer.from(ed.recipientInfos[0]!.ktri!.keyEncryptionAlgorithm.parameters!).toString('hex')
  }
  it.skipIf(!existsSync(vector))('accepts what KMS sends (the aws-nitro-enclaves-sdk-c sample: NULL parameters, no label field)', () => {
    expect(newAccepts(paramsOf(new Uint8Array(readFileSync(vector))))).toBe(true)
  })
  it.skipIf(!haveOpenssl)('accepts what OpenSSL writes (absent parameters)', () => {
    expect(newAccepts(paramsOf(opensslEncrypt(new Uint8Array(32), ['-aes256', ...OAEP_256]).cms))).toBe(true)
  })
})
