import { type Hex, hashMessage, hexToBytes, stringToBytes } from 'viem'
import { type DecodeResult, deny } from './signingPlan.js'

export type DecodeMessageParameters = { message: { text: string } | { raw: string } }

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/
/** A UTF-16 surrogate without its pair (hashed as U+FFFD, so it changes in transit). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Decodes an EIP-191 personal message (UTF-8 text or raw hex bytes); the
 * digest always carries the "\x19Ethereum Signed Message:\n<len>" prefix, so
 * it can never be a signature over a bare 32-byte digest. The action keeps
 * the whole message, so an approval binds every byte.
 */
export function decodeMessage({ message }: DecodeMessageParameters): DecodeResult {
  let bytes: Uint8Array
  let kept: { text: string } | { raw: string }
  if ('text' in message) {
    // Lone surrogates would be silently replaced by U+FFFD: what is signed must be what was sent.
    if (typeof message.text !== 'string' || LONE_SURROGATE.test(message.text)) {
      return deny('sign_message_malformed', 'text is not well-formed Unicode')
    }
    bytes = stringToBytes(message.text)
    kept = { text: message.text }
  } else {
    if (typeof message.raw !== 'string' || !HEX.test(message.raw)) {
      return deny('sign_message_malformed', 'raw is not even-length hex')
    }
    bytes = hexToBytes(message.raw as Hex)
    kept = { raw: message.raw.toLowerCase() }
  }
  return {
    ok: true,
    action: { kind: 'raw_message', length: bytes.length, message: kept },
    plan: { kind: 'message', digest: hashMessage({ raw: bytes }) },
  }
}
