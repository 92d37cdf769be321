import { type KeyObject, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'

/** PKCS#8 prefixes of a 32-byte Ed25519 / X25519 private key (RFC 8410): the key follows. */
const PKCS8_PREFIX = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' } as const

/**
 * A fresh Ed25519 or X25519 key pair from 32 random bytes — what generateKeyPairSync does for these curves, without
 * its key-generation job: on Node 20 that job's finalizer takes the key's lock, and a GC that runs it while an
 * export of the same key holds the lock deadlocks the process for good (seen in the enclave's openSession under
 * test: the main thread in KeyGenJob::~KeyGenJob inside ExportJWKEdKey).
 */
export function randomKeyPair(type: keyof typeof PKCS8_PREFIX): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from(PKCS8_PREFIX[type], 'hex'), randomBytes(32)]), format: 'der', type: 'pkcs8' })
  return { privateKey, publicKey: createPublicKey(privateKey) }
}
