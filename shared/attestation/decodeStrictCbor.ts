import { decode, Tokenizer, type DecodeOptions, type TagDecoder } from 'cborg'
import { AttestationError } from './AttestationError.js'
import { decodeSimpleCbor, NOT_SIMPLE } from './decodeSimpleCbor.js'

/** Marks a value that arrived wrapped in CBOR tag 18 (COSE_Sign1). */
export type CoseTag18 = { readonly tag18: unknown }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Tokenizer that refuses text strings that are not valid UTF-8 (cborg would substitute U+FFFD). */
class Utf8CheckingTokenizer extends Tokenizer {
  override next() {
    const token = super.next()
    if (token.type.major === 3 && token.byteValue !== undefined) utf8.decode(token.byteValue)
    return token
  }
}

/**
 * Decodes one CBOR item strictly: whole input consumed, no duplicate map keys,
 * Maps for every map (integer keys kept), no undefined/NaN/Infinity, valid UTF-8,
 * and no tags unless `allowTag18` (then only tag 18, returned as `{ tag18 }`).
 * Any failure, including stack exhaustion on deep nesting, is `attestation_malformed`.
 * The plain shape the NSM writes takes decodeSimpleCbor's fast path; everything else goes to cborg.
 */
export function decodeStrictCbor(bytes: Uint8Array, what: string, allowTag18 = false): unknown {
  const simple = decodeSimpleCbor(bytes, allowTag18)
  return simple !== NOT_SIMPLE ? simple : decodeStrictCborWithCborg(bytes, what, allowTag18)
}

/** decodeStrictCbor without the fast path (the reference decodeSimpleCbor.test.ts compares the fast path to). */
export function decodeStrictCborWithCborg(bytes: Uint8Array, what: string, allowTag18 = false): unknown {
  const tags: Record<number, TagDecoder> = {}
  if (allowTag18) tags[18] = (inner) => ({ tag18: inner() }) satisfies CoseTag18
  const options: DecodeOptions = {
    useMaps: true,
    rejectDuplicateMapKeys: true,
    allowUndefined: false,
    allowNaN: false,
    allowInfinity: false,
    allowBigInt: true,
    allowIndefinite: true,
    retainStringBytes: true,
    tags,
  }
  try {
    options.tokenizer = new Utf8CheckingTokenizer(bytes, options)
    return decode(bytes, options)
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new AttestationError('attestation_malformed', `Undecodable CBOR in ${what}`, { details: reason, cause })
  }
}
