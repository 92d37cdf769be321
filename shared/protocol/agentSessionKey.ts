import { type KeyObject, createHash, createPrivateKey, createPublicKey, hkdfSync, randomBytes } from 'node:crypto'

/**
 * The per-session MAC key both sides derive (docs/agent-sdk.md "Sessions"): HKDF-SHA256 over the X25519 secret,
 * salted with the SHA-256 of the exact signed openSession text, bound to the enclave's public key.
 */
export function agentSessionKey(shared: Buffer, openText: string, enclavePubHex: string): Buffer {
  const salt = createHash('sha256').update(openText, 'utf8').digest()
  return Buffer.from(hkdfSync('sha256', shared, salt, `bursar agent session v1 ${enclavePubHex}`, 32))
}

/** An X25519 public key from its 32-byte hex form, and back. */
export const x25519FromHex = (hex: string): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(hex, 'hex').toString('base64url') }, format: 'jwk' })
export const x25519Hex = (k: KeyObject): string => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url').toString('hex')

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')
/**
 * A fresh X25519 key pair from 32 random bytes. Not generateKeyPairSync: on Node 20 the finished key-generation job's
 * finalizer takes the key's lock, and a GC that runs it while a JWK export of that key holds the lock deadlocks the
 * process for good (seen in the enclave's openSession under test: main thread in KeyGenJob::~KeyGenJob).
 */
export function newX25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(32)]), format: 'der', type: 'pkcs8' })
  return { privateKey, publicKey: createPublicKey(privateKey) }
}

