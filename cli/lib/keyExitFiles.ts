import { createPrivateKey, createPublicKey, randomBytes, verify } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { BaseError } from '../../shared/errors/base.js'
import { importKeyMessage, openFromX25519, x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import { privateKeyToAddress } from 'viem/accounts'

const bad = (message: string, hint: string) => new BaseError('usage_invalid', message, { metaMessages: [hint] })
const HINT = 'Use `bursar owner exit-key generate --out FILE` (writes FILE and FILE.pub), or `openssl genpkey -algorithm X25519 -out FILE` and `openssl pkey -in FILE -pubout -out FILE.pub`.'

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (cause) {
    throw bad(`Cannot read ${file}: ${(cause as Error).message}`, HINT)
  }
}
const raw = (text: string): Uint8Array | null => (/^(0x)?[0-9a-fA-F]{64}$/.test(text) ? new Uint8Array(Buffer.from(text.replace(/^0x/, ''), 'hex')) : null)

/** An X25519 public key file: 32 bytes as hex, or an OpenSSL PEM (`openssl pkey -pubout`). */
export function readX25519PublicKey(file: string): Uint8Array {
  const text = readText(file)
  const hex = raw(text)
  if (hex) return hex
  try {
    const jwk = createPublicKey(text).export({ format: 'jwk' })
    if (jwk.crv === 'X25519' && jwk.x) return new Uint8Array(Buffer.from(jwk.x, 'base64url'))
  } catch {}
  throw bad(`${file} is not an X25519 public key (32 bytes hex, or PEM)`, HINT)
}

/** An X25519 secret key file: 32 bytes as hex, or an OpenSSL PEM (`openssl genpkey -algorithm X25519`). */
export function readX25519SecretKey(file: string): Uint8Array {
  const text = readText(file)
  const hex = raw(text)
  if (hex) return hex
  try {
    const jwk = createPrivateKey(text).export({ format: 'jwk' })
    if (jwk.crv === 'X25519' && jwk.d) return new Uint8Array(Buffer.from(jwk.d, 'base64url'))
  } catch {}
  throw bad(`${file} is not an X25519 secret key (32 bytes hex, or PEM)`, HINT)
}

/** Writes a fresh X25519 key pair: `out` (secret, 0600) and `out.pub`. The secret never needs to leave this machine. */
export function generateX25519KeyFiles(out: string): { publicKey: string; secretFile: string; publicFile: string } {
  const secret = new Uint8Array(randomBytes(32))
  const publicKey = `0x${Buffer.from(x25519PublicKey(secret)).toString('hex')}`
  writeFileSync(out, `0x${Buffer.from(secret).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
  writeFileSync(`${out}.pub`, `${publicKey}\n`)
  return { publicKey, secretFile: out, publicFile: `${out}.pub` }
}

export type ExportFile = { address: `0x${string}`; recipientKey: string; sealedKey: string }

/** Opens an export file with the owner's secret key; the recovered key must be the wallet's (its address). */
export function decryptExport(exp: ExportFile, secret: Uint8Array): { address: `0x${string}`; privateKey: `0x${string}` } {
  let key: Uint8Array
  try {
    key = openFromX25519(secret, new Uint8Array(Buffer.from(exp.sealedKey.replace(/^0x/, ''), 'hex')), exp.address)
  } catch {
    throw new BaseError('import_key_invalid', 'The export does not open with this key (another key, or it was altered)', { metaMessages: ['Use the secret key whose public half you passed to `wallet export --to`.'] })
  }
  const privateKey = `0x${Buffer.from(key).toString('hex')}` as `0x${string}`
  if (privateKeyToAddress(privateKey).toLowerCase() !== exp.address.toLowerCase()) {
    throw new BaseError('import_key_invalid', `The export opens, but not to the key of ${exp.address}`, { metaMessages: ['Do not use this key; ask the other owners.'] })
  }
  return { address: exp.address, privateKey }
}

/** SECURITY: the enclave's import key counts only if its attested receipt key signed it. */
export function importKeyVouched(receiptKeyHex: string, importKey: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(receiptKeyHex.replace(/^0x/, ''), 'hex'), format: 'der', type: 'spki' })
    return /^0x[0-9a-f]{64}$/i.test(importKey) && verify(null, importKeyMessage(importKey), key, Buffer.from(signature.replace(/^0x/, ''), 'hex'))
  } catch {
    return false
  }
}
