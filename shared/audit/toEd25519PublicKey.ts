import { createPublicKey, type KeyObject } from 'node:crypto'
import { AUDIT_CODES } from './auditCodes.js'
import { AuditError } from './AuditError.js'

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 raw key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export type Ed25519PublicKeyInput = Uint8Array | string | KeyObject

/**
 * Accepts an Ed25519 public key as raw 32 bytes, SPKI DER, hex of either
 * (0x optional), PEM, or a KeyObject, and returns a node:crypto KeyObject.
 */
export function toEd25519PublicKey(input: Ed25519PublicKeyInput): KeyObject {
  let key: KeyObject
  try {
    if (typeof input === 'string' && input.includes('-----BEGIN')) key = createPublicKey(input)
    else if (typeof input === 'string' || input instanceof Uint8Array) key = fromBytes(toBytes(input))
    else key = input
  } catch (cause) {
    throw new AuditError(AUDIT_CODES.badPublicKey, 'Not an Ed25519 public key', { cause })
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519')
    throw new AuditError(AUDIT_CODES.badPublicKey, 'Not an Ed25519 public key', {
      details: `type ${key.type}, algorithm ${key.asymmetricKeyType ?? 'unknown'}`,
    })
  return key
}

function toBytes(input: string | Uint8Array): Buffer {
  if (typeof input !== 'string') return Buffer.from(input)
  const hex = input.startsWith('0x') ? input.slice(2) : input
  if (!/^([0-9a-fA-F]{2})+$/.test(hex))
    throw new AuditError(AUDIT_CODES.badPublicKey, 'Public key hex is not valid hex')
  return Buffer.from(hex, 'hex')
}

function fromBytes(bytes: Buffer): KeyObject {
  const der = bytes.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, bytes]) : bytes
  return createPublicKey({ key: der, format: 'der', type: 'spki' })
}
