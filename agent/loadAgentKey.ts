import { type KeyObject, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { agentIdFromPublicKey } from '../shared/identity/agentIdFromPublicKey.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'
import { AgentKeyError } from './errors.js'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)

/** An agent key file: Ed25519 raw keys as lowercase hex, plus optional wallet address and host URL. */
export const AgentKeySchema = z.object({
  agentId: z.string().regex(/^agt_[0-9a-f]{40}$/),
  publicKey: hex32,
  /** The 32-byte Ed25519 seed. */
  privateKey: hex32,
  wallet: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .optional(),
  host: z.string().url().optional(),
  /**
   * The enclave's Ed25519 receipt key (hex: raw 32 bytes or SPKI DER) the SDK verifies every receipt under: written
   * by `bursar owner agent add` from the key the owner's CLI pinned or verified by attestation (`--root`).
   */
  receiptPublicKey: z
    .string()
    .regex(/^(0x)?[0-9a-fA-F]{64,}$/)
    .optional(),
})
export type AgentKey = z.infer<typeof AgentKeySchema>

// SPKI DER prefix of a raw Ed25519 public key (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

function rawPublicKeyHex(privateKey: KeyObject): string {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return Buffer.from(spki.subarray(SPKI_PREFIX.length)).toString('hex')
}

/**
 * Loads an agent key from a JSON file path or an object and checks it is
 * self-consistent (seed → public key → agentId), so a corrupted file fails
 * here rather than as an opaque signature error at the host.
 */
export function loadAgentKey(pathOrObject: string | unknown): AgentKey {
  let raw: unknown = pathOrObject
  if (typeof pathOrObject === 'string') {
    let text: string
    try {
      text = readFileSync(pathOrObject, 'utf8')
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (cause as Error).message
      throw new AgentKeyError(`cannot read agent key file ${pathOrObject}: ${why}`, {
        cause,
        details: 'The owner writes it with `bursar owner agent add --wallet 0x… --out <file>` (or `bursar devchain`: .bursar/devchain/agent.key.json); pass that path.',
      })
    }
    try {
      raw = JSON.parse(text)
    } catch (cause) {
      throw new AgentKeyError(`agent key file ${pathOrObject} is not JSON (${(cause as Error).message})`, {
        cause,
        details: 'An agent key file is the JSON written by `bursar owner agent add` ({ agentId, publicKey, privateKey, wallet, host }); this is another file.',
      })
    }
  }
  const parsed = AgentKeySchema.safeParse(raw)
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new AgentKeyError(`agent key${typeof pathOrObject === 'string' ? ` file ${pathOrObject}` : ''} has the wrong shape: ${fields}`, {
      cause: parsed.error,
      details: 'Expected the JSON written by `bursar owner agent add`: agentId (agt_…), publicKey and privateKey (64 hex digits each), optional wallet and host.',
    })
  }
  const key = parsed.data
  const derived = rawPublicKeyHex(ed25519PrivateKeyFromSeed(key.privateKey))
  if (derived !== key.publicKey) throw new AgentKeyError('agent key: publicKey does not match privateKey')
  if (agentIdFromPublicKey(Buffer.from(derived, 'hex')) !== key.agentId)
    throw new AgentKeyError('agent key: agentId does not match publicKey')
  return key
}
