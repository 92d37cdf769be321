import { encode } from 'cborg'

/** COSE Sig_structure for COSE_Sign1 (RFC 9052 §4.4): ["Signature1", protected, h'', payload], from the ORIGINAL protected and payload bytes. */
export function encodeSigStructure(protectedBytes: Uint8Array, payloadBytes: Uint8Array): Uint8Array {
  return encode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes])
}
