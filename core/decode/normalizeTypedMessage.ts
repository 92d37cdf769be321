import { type Hex, type TypedDataDefinition, type TypedDataDomain, hashTypedData } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { parseEip712Integer } from './parseEip712Integer.js'
import { type SignDenial, deny } from './signingPlan.js'

export type NormalizeTypedMessageParameters = { types: TypedDataJson['types']; primaryType: string; message: unknown }
export type NormalizeTypedMessageReturnType =
  | { ok: true; message: Record<string, unknown> }
  | { ok: false; message: string; tooLarge?: true }

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])
const INT = /^(u?)int([0-9]{1,3})$/
const BYTES_N = /^bytes([0-9]{1,2})$/
const ARRAY = /^(.*)\[([0-9]*)\]$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const HEX = /^0x(?:[0-9a-fA-F]{2})*$/
/**
 * SECURITY: limits that bound the work of checking and hashing one request
 * (viem re-derives a struct's type string per instance): a request within
 * them decodes in milliseconds, so one agent cannot stall the writer.
 */
export const TYPED_DATA_LIMITS = {
  maxTypes: 32,
  maxFieldsPerType: 64,
  maxDepth: 8,
  maxValues: 512,
  maxArrayLength: 256,
  /** Total characters of the EIP-712 type strings hashing re-derives: encodeType(T) once per struct instance. */
  maxTypeWork: 64 * 1024,
} as const
const MAX_DEPTH = TYPED_DATA_LIMITS.maxDepth
const ATOMIC = /^(address|bool|string|bytes|bytes[0-9]{1,2}|u?int[0-9]{1,3})$/

class Refusal {
  constructor(
    readonly message: string,
    readonly tooLarge = false,
  ) {}
}

function fail(path: string, why: string): never {
  throw new Refusal(`${path.slice(0, 80)}: ${why}`)
}

function tooLarge(why: string): never {
  throw new Refusal(`typed data too large: ${why}`, true)
}

function atomic(type: string, value: unknown, path: string): unknown {
  const int = INT.exec(type)
  if (int) {
    const bits = Number(int[2])
    if (bits < 8 || bits > 256 || bits % 8) fail(path, `invalid type ${type}`)
    const n = parseEip712Integer(value, { signed: int[1] !== 'u', bits })
    return n ?? fail(path, `not a ${type}`)
  }
  const bytesN = BYTES_N.exec(type)
  if (bytesN) {
    const size = Number(bytesN[1])
    if (size < 1 || size > 32) fail(path, `invalid type ${type}`)
    if (typeof value !== 'string' || !HEX.test(value) || value.length !== 2 + 2 * size) fail(path, `not ${type}`)
    return value
  }
  switch (type) {
    case 'address':
      return typeof value === 'string' && ADDRESS.test(value) ? value : fail(path, 'not an address')
    case 'bool':
      return typeof value === 'boolean' ? value : fail(path, 'not a bool')
    case 'string':
      return typeof value === 'string' ? value : fail(path, 'not a string')
    case 'bytes':
      return typeof value === 'string' && HEX.test(value) ? value : fail(path, 'not bytes')
  }
  return fail(path, `unknown type ${type.slice(0, 40)}`)
}

/**
 * Checks a JSON EIP-712 message against its types strictly (every field
 * present, no extra keys, exact value types and ranges, declared struct names
 * only) and returns it in viem's form (integers as bigint). Never throws.
 */
export function normalizeTypedMessage({ types, primaryType, message }: NormalizeTypedMessageParameters): NormalizeTypedMessageReturnType {
  let values = 0
  const value = (type: string, v: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) tooLarge(`nested deeper than ${MAX_DEPTH}`)
    if (++values > TYPED_DATA_LIMITS.maxValues) tooLarge(`more than ${TYPED_DATA_LIMITS.maxValues} values`)
    const arr = ARRAY.exec(type)
    if (arr) {
      if (!Array.isArray(v)) fail(path, `not an array of ${arr[1]}`)
      if (v.length > TYPED_DATA_LIMITS.maxArrayLength) tooLarge(`array longer than ${TYPED_DATA_LIMITS.maxArrayLength}`)
      if (arr[2] !== '' && v.length !== Number(arr[2])) fail(path, `length is not ${arr[2]}`)
      return v.map((item, i) => value(arr[1]!, item, `${path}[${i}]`, depth + 1))
    }
    if (Object.hasOwn(types, type)) return struct(type, v, path, depth + 1)
    return atomic(type, v, path)
  }
  let typeWork = 0
  const encodedLength = new Map<string, number>()
  const struct = (type: string, v: unknown, path: string, depth: number): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `not a ${type} struct`)
    // SECURITY: hashing re-derives the type string (the struct and every type it references) per instance: a long
    // chain of types within the other limits would make that quadratic, so its total length is bounded.
    typeWork += encodedLength.get(type) ?? encodedLength.set(type, encodedTypeLength(types, type)).get(type)!
    if (typeWork > TYPED_DATA_LIMITS.maxTypeWork) tooLarge(`type strings longer than ${TYPED_DATA_LIMITS.maxTypeWork} characters in total`)
    const fields = types[type]!
    const obj = v as Record<string, unknown>
    if (Object.keys(obj).length !== fields.length) fail(path, `keys are not exactly the fields of ${type}`)
    const out: Record<string, unknown> = {}
    for (const f of fields) {
      if (!Object.hasOwn(obj, f.name)) fail(path, `missing ${f.name.slice(0, 40)}`)
      out[f.name] = value(f.type, obj[f.name], `${path}.${f.name}`, depth)
    }
    return out
  }
  try {
    const entries = Object.entries(types)
    if (entries.length > TYPED_DATA_LIMITS.maxTypes) tooLarge(`more than ${TYPED_DATA_LIMITS.maxTypes} types`)
    for (const [name, fields] of entries) {
      if (fields.length > TYPED_DATA_LIMITS.maxFieldsPerType) tooLarge(`${name.slice(0, 40)} has more than ${TYPED_DATA_LIMITS.maxFieldsPerType} fields`)
      if (!IDENT.test(name) || ATOMIC.test(name) || RESERVED.has(name)) fail('types', `invalid struct name ${name.slice(0, 40)}`)
      const seen = new Set<string>()
      for (const f of fields) {
        if (!IDENT.test(f.name) || RESERVED.has(f.name) || seen.has(f.name)) fail(name, `invalid or duplicate field ${f.name.slice(0, 40)}`)
        seen.add(f.name)
      }
    }
    if (primaryType === 'EIP712Domain' || !Object.hasOwn(types, primaryType)) {
      fail('primaryType', 'must name a declared struct other than EIP712Domain')
    }
    return { ok: true, message: struct(primaryType, message, primaryType, 0) }
  } catch (err) {
    if (err instanceof Refusal) return err.tooLarge ? { ok: false, message: err.message, tooLarge: true } : { ok: false, message: err.message }
    // A RangeError (stack) or similar from hostile input is still a refusal, never a crash.
    return { ok: false, message: 'typed data could not be checked' }
  }
}

/**
 * normalizeTypedMessage, then the EIP-712 digest under `domain` (viem validates again; a throw is a refusal): the
 * message in viem's form and its digest, or `shape(why)` (sign_typed_data_too_large past TYPED_DATA_LIMITS).
 */
export function hashTypedJson(typedData: TypedDataJson, domain: TypedDataDomain, shape: (why: string) => SignDenial): { ok: true; message: Record<string, unknown>; digest: Hex } | SignDenial {
  const { types, primaryType } = typedData
  const norm = normalizeTypedMessage({ types, primaryType, message: typedData.message })
  if (!norm.ok) return norm.tooLarge ? deny('sign_typed_data_too_large', norm.message) : shape(norm.message)
  try {
    return { ok: true, message: norm.message, digest: hashTypedData({ domain, types, primaryType, message: norm.message } as unknown as TypedDataDefinition) }
  } catch {
    return shape('does not hash under EIP-712')
  }
}

/** Length of EIP-712 encodeType(primary): `Name(type name,…)` for the struct and every struct type it references. */
function encodedTypeLength(types: TypedDataJson['types'], primary: string): number {
  const seen = new Set<string>([primary])
  const todo = [primary]
  let length = 0
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    const fields = types[name] ?? []
    length += name.length + 2 + Math.max(0, fields.length - 1)
    for (const f of fields) {
      length += f.type.length + 1 + f.name.length
      const bracket = f.type.indexOf('[')
      const base = bracket < 0 ? f.type : f.type.slice(0, bracket)
      if (Object.hasOwn(types, base) && !seen.has(base)) {
        seen.add(base)
        todo.push(base)
      }
    }
  }
  return length
}
