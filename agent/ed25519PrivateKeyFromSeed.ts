import { type KeyObject, createPrivateKey } from 'node:crypto'

// PKCS#8 DER prefix of a raw Ed25519 private key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** node:crypto KeyObject for a raw 32-byte Ed25519 seed given as hex. */
export function ed25519PrivateKeyFromSeed(seedHex: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' })
}
