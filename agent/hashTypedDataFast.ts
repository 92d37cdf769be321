import { keccak256 } from 'js-sha3'
import { type TypedDataDefinition, getAddress, getTypesForEIP712Domain, hashDomain, hashTypedData, hexToBytes } from 'viem'

type Field = { name: string; type: string }
type Types = Record<string, readonly Field[]>
/** Writes one 32-byte word of encodeData for a value at `off`, or returns false (→ viem decides). */
type WordEncoder = (value: unknown, out: Uint8Array, off: number) => boolean
type StructEncoder = (value: unknown) => Uint8Array | undefined

const DOMAIN_CACHE = new Map<string, Uint8Array>()
const ENCODERS = new Map<string, StructEncoder | null>()
// By identity of the caller's `types` object (x402 passes one constant object): the shape it had when compiled,
// flattened, is compared field by field on every hit, so a caller that mutates its `types` between calls misses.
const BY_IDENTITY = new WeakMap<object, { primaryType: string; shape: unknown[]; enc: StructEncoder | null }>()
const CACHE_MAX = 256
// Mixed-case addresses whose EIP-55 checksum was checked (x402 sends checksummed ones, and the same few repeat).
const CHECKSUMMED = new Map<string, boolean>()
const HEX = /^0x[0-9a-fA-F]*$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const INT = /^(u?)int(8|16|24|32|40|48|56|64|72|80|88|96|104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)$/
const BYTES_N = /^bytes([1-9]|[12][0-9]|3[0-2])$/
const PREFIX = new Uint8Array([0x19, 0x01])

/** Keccak-256 (js-sha3: ~2.5× @noble/hashes on these short inputs; equal byte for byte, tested). */
export function keccak_256(data: Uint8Array): Uint8Array {
  return new Uint8Array(keccak256.arrayBuffer(data))
}

/**
 * The EIP-712 digest of `def`, equal to viem's hashTypedData (tested against
 * it): domain separators and per-type encoders are compiled once and cached,
 * so a repeated shape (an x402 payment) costs three keccaks. Anything outside
 * the fast path (arrays, EIP712Domain in `types`, values viem would convert
 * or refuse) is handed to viem's hashTypedData, which also throws its errors.
 */
export function hashTypedDataFast(def: TypedDataDefinition): Uint8Array {
  const fast = tryFast(def)
  return fast ?? hexToBytes(hashTypedData(def))
}

function tryFast(def: TypedDataDefinition): Uint8Array | undefined {
  const types = def.types as unknown as Types | undefined
  if (!types || typeof types !== 'object' || 'EIP712Domain' in types || def.primaryType === 'EIP712Domain') return undefined
  const encoder = encoderFor(types, def.primaryType as string)
  if (!encoder) return undefined
  const struct = encoder(def.message)
  const domain = struct && domainSeparator(def.domain)
  if (!struct || !domain) return undefined
  const outer = new Uint8Array(66)
  outer.set(PREFIX, 0)
  outer.set(domain, 2)
  outer.set(struct, 34)
  return keccak_256(outer)
}

function domainSeparator(domain: TypedDataDefinition['domain']): Uint8Array | undefined {
  const d = (domain ?? {}) as Record<string, unknown>
  // Key on type and value of each field viem reads (its type list depends on which are present and their types).
  // Only primitives are keyed: String() of an object or array is not its value (viem hashes {} and
  // {"0":50,"length":1} as different versions, both "[object Object]"), so such a domain is hashed each time.
  const cacheable = primitive(d.name) && primitive(d.version) && primitive(d.chainId) && primitive(d.verifyingContract) && primitive(d.salt)
  const key = cacheable
    ? JSON.stringify([typeof d.name, String(d.name), typeof d.version, String(d.version), typeof d.chainId, String(d.chainId), typeof d.verifyingContract, String(d.verifyingContract), typeof d.salt, String(d.salt)])
    : undefined
  let sep = key === undefined ? undefined : DOMAIN_CACHE.get(key)
  if (sep) return sep
  try {
    const dom = (domain ?? {}) as Parameters<typeof getTypesForEIP712Domain>[0]['domain']
    const types = { EIP712Domain: getTypesForEIP712Domain({ domain: dom }) }
    sep = hexToBytes(hashDomain({ domain: dom as Record<string, unknown>, types } as unknown as Parameters<typeof hashDomain>[0]))
  } catch {
    return undefined
  }
  if (key === undefined) return sep
  if (DOMAIN_CACHE.size >= CACHE_MAX) DOMAIN_CACHE.clear()
  DOMAIN_CACHE.set(key, sep)
  return sep
}

/** A value String() renders faithfully (two different ones never render alike under the same typeof). */
function primitive(v: unknown): boolean {
  const t = typeof v
  return v === undefined || v === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean'
}

function encoderFor(types: Types, primaryType: string): StructEncoder | undefined {
  const hit = BY_IDENTITY.get(types)
  if (hit && hit.primaryType === primaryType && sameShape(types, hit.shape)) return hit.enc ?? undefined
  const enc = encoderByContent(types, primaryType)
  const shape = shapeOf(types)
  if (shape) BY_IDENTITY.set(types, { primaryType, shape, enc })
  return enc ?? undefined
}

/** Every type name, its field array and each field's name and type, in order; undefined if not plain arrays of fields. */
function shapeOf(types: Types): unknown[] | undefined {
  const shape: unknown[] = []
  for (const name of Object.keys(types)) {
    const fields = types[name]
    if (!Array.isArray(fields)) return undefined
    shape.push(name, fields, fields.length)
    for (const f of fields) {
      if (f === null || typeof f !== 'object') return undefined
      shape.push(f.name, f.type)
    }
  }
  return shape
}

function sameShape(types: Types, shape: unknown[]): boolean {
  let i = 0
  for (const name in types) {
    if (!Object.hasOwn(types, name)) continue
    const fields = types[name]
    if (shape[i] !== name || shape[i + 1] !== fields || !Array.isArray(fields) || shape[i + 2] !== fields.length) return false
    i += 3
    for (const f of fields) {
      if (f === null || typeof f !== 'object' || shape[i] !== f.name || shape[i + 1] !== f.type) return false
      i += 2
    }
  }
  return i === shape.length
}

function encoderByContent(types: Types, primaryType: string): StructEncoder | null {
  // Keyed by content: a caller may reuse and change one `types` object between calls.
  const key = `${primaryType}\u0000${JSON.stringify(types)}`
  let enc = ENCODERS.get(key)
  if (enc === undefined) {
    enc = typesLookValid(types) ? compileStruct(types, primaryType, new Map()) : null
    if (ENCODERS.size >= CACHE_MAX) ENCODERS.clear()
    ENCODERS.set(key, enc)
  }
  return enc
}

/** encodeType (EIP-712): the primary type, then every struct it references, sorted by name. */
function encodeType(types: Types, primary: string): string | null {
  const deps = new Set<string>()
  const visit = (t: string): boolean => {
    for (const f of types[t] ?? []) {
      if (f.type.endsWith(']')) return false
      if (Object.hasOwn(types, f.type) && f.type !== primary && !deps.has(f.type)) {
        deps.add(f.type)
        if (!visit(f.type)) return false
      }
    }
    return true
  }
  if (!visit(primary)) return null
  const one = (t: string) => `${t}(${(types[t] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`
  return [primary, ...[...deps].sort()].map(one).join('')
}

/** viem's strict isAddress: all-lowercase, or a correct EIP-55 checksum. */
function checksumOk(a: string): boolean {
  if (a.toLowerCase() === a) return true
  let ok = CHECKSUMMED.get(a)
  if (ok === undefined) {
    ok = getAddress(a) === a
    if (CHECKSUMMED.size >= CACHE_MAX) CHECKSUMMED.clear()
    CHECKSUMMED.set(a, ok)
  }
  return ok
}

/** The type checks viem's validateTypedData makes on `types` (every struct, reachable or not); false → viem decides. */
function typesLookValid(types: Types): boolean {
  const solidityLike = (t: string) => t === 'address' || t === 'bool' || t === 'string' || /^(bytes|u?int)/.test(t)
  for (const [name, fields] of Object.entries(types)) {
    if (solidityLike(name) || !Array.isArray(fields)) return false
    for (const f of fields) {
      const t = f?.type
      if (typeof t !== 'string' || typeof f.name !== 'string') return false
      if (!Object.hasOwn(types, t) && !(t === 'address' || t === 'bool' || t === 'string' || t === 'bytes' || BYTES_N.test(t) || INT.test(t)))
        return false
    }
  }
  return true
}

function compileStruct(types: Types, name: string, compiling: Map<string, StructEncoder | null>): StructEncoder | null {
  const fields = Object.hasOwn(types, name) ? types[name] : undefined
  if (!Array.isArray(fields) || compiling.has(name)) return null // unknown or recursive: viem decides
  compiling.set(name, null)
  const typeString = encodeType(types, name)
  if (typeString === null) return null
  const typeHash = keccak_256(new TextEncoder().encode(typeString))
  const words: WordEncoder[] = []
  for (const f of fields) {
    if (typeof f?.name !== 'string' || typeof f.type !== 'string') return null
    const w = wordEncoder(types, f.type, compiling)
    if (!w) return null
    const key = f.name
    words.push((v, out, off) => w((v as Record<string, unknown>)[key], out, off))
  }
  const size = 32 * (words.length + 1)
  const enc: StructEncoder = (value) => {
    if (value === null || typeof value !== 'object') return undefined
    const buf = new Uint8Array(size)
    buf.set(typeHash, 0)
    for (let i = 0; i < words.length; i++) if (!words[i]!(value, buf, 32 * (i + 1))) return undefined
    return keccak_256(buf)
  }
  compiling.set(name, enc)
  return enc
}

function wordEncoder(types: Types, type: string, compiling: Map<string, StructEncoder | null>): WordEncoder | null {
  if (Object.hasOwn(types, type)) {
    const sub = compileStruct(types, type, new Map(compiling))
    if (!sub) return null
    return (v, out, off) => {
      const h = sub(v)
      if (!h) return false
      out.set(h, off)
      return true
    }
  }
  if (type === 'address')
    return (v, out, off) => {
      if (typeof v !== 'string' || !ADDRESS.test(v) || !checksumOk(v)) return false
      out.set(Buffer.from(v.slice(2), 'hex'), off + 12)
      return true
    }
  if (type === 'bool')
    return (v, out, off) => {
      if (typeof v !== 'boolean') return false
      out[off + 31] = v ? 1 : 0
      return true
    }
  if (type === 'string')
    return (v, out, off) => {
      if (typeof v !== 'string') return false
      out.set(keccak_256(Buffer.from(v, 'utf8')), off)
      return true
    }
  if (type === 'bytes')
    return (v, out, off) => {
      if (typeof v !== 'string' || !HEX.test(v) || v.length % 2 !== 0) return false
      out.set(keccak_256(Buffer.from(v.slice(2), 'hex')), off)
      return true
    }
  const bytesN = BYTES_N.exec(type)
  if (bytesN) {
    const n = Number(bytesN[1])
    if (n < 1 || n > 32) return null
    return (v, out, off) => {
      if (typeof v !== 'string' || v.length !== 2 + 2 * n || !HEX.test(v)) return false
      out.set(Buffer.from(v.slice(2), 'hex'), off)
      return true
    }
  }
  const int = INT.exec(type)
  if (int) {
    const bits = int[2] === '' ? 256 : Number(int[2])
    if (bits < 8 || bits > 256 || bits % 8 !== 0) return null
    const signed = int[1] === ''
    const max = 2n ** BigInt(signed ? bits - 1 : bits) - 1n
    const min = signed ? -max - 1n : 0n
    return (v, out, off) => {
      let n: bigint
      if (typeof v === 'bigint') n = v
      else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
      else return false
      if (n > max || n < min) return false
      const word = n < 0n ? n + 2n ** 256n : n
      out.set(Buffer.from(word.toString(16).padStart(64, '0'), 'hex'), off)
      return true
    }
  }
  return null
}
