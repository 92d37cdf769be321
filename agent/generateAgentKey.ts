import { agentIdFromPublicKey } from '../shared/identity/agentIdFromPublicKey.js'
import { randomKeyPair } from '../shared/identity/randomKeyPair.js'
import type { AgentKey } from './loadAgentKey.js'

export type GenerateAgentKeyParameters = {
  wallet?: `0x${string}` | undefined
  host?: string | undefined
}

/** Creates a fresh Ed25519 agent key (node:crypto) in the key-file shape; the caller stores it (mode 0600). */
export function generateAgentKey(params: GenerateAgentKeyParameters = {}): AgentKey {
  const { publicKey, privateKey } = randomKeyPair('ed25519')
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url')
  return {
    agentId: agentIdFromPublicKey(pub),
    publicKey: pub.toString('hex'),
    privateKey: seed.toString('hex'),
    ...(params.wallet ? { wallet: params.wallet } : {}),
    ...(params.host ? { host: params.host } : {}),
  }
}
