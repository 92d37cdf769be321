import { decode } from 'cborg'
import { BaseError } from '../errors/base.js'
import { encodeCborFrame } from './encodeCborFrame.js'

/**
 * Length-prefixed CBOR framing for the host↔enclave channel: a 4-byte
 * big-endian length, then that many bytes of CBOR. The length is checked
 * against MAX_FRAME_BYTES before any buffer is allocated for the body.
 */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024

export class FrameError extends BaseError {
  constructor(code: 'frame_too_large' | 'frame_invalid_cbor' | 'frame_empty', shortMessage: string) {
    super(code, shortMessage)
  }
}

/** Encodes one value as a frame (prefix + CBOR, the bytes cborg's `encode` makes). */
export function encodeFrame(value: unknown): Buffer {
  const { frame, bodyLength } = encodeCborFrame(value)
  if (bodyLength > MAX_FRAME_BYTES) {
    throw new FrameError('frame_too_large', `Frame of ${bodyLength} bytes exceeds ${MAX_FRAME_BYTES}`)
  }
  return frame
}

/** Decodes one CBOR frame body; strict (no trailing bytes, no undefined). */
export function decodeFrameBody(body: Uint8Array): unknown {
  if (body.length === 0) throw new FrameError('frame_empty', 'Empty frame')
  try {
    return decode(body, { rejectDuplicateMapKeys: true, allowUndefined: false, allowIndefinite: false })
  } catch (cause) {
    throw new FrameError('frame_invalid_cbor', `Invalid CBOR: ${(cause as Error).message.slice(0, 120)}`)
  }
}
