import type { Hex } from 'viem'
import { readAgentPayments, readAgentStatus } from '../../agent/agentRead.js'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { type AgentKey, loadAgentKey } from '../../agent/loadAgentKey.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

/** A fixed agent key (test only: the seed is public). */
export const VECTOR_KEY_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
export const VECTOR_WALLET: Hex = '0x1111111111111111111111111111111111111111'

export type RequestVector = {
  name: string
  /** Host route the SDK posted to. */
  path: string
  /** The exact request text the TypeScript SDK signed, and its Ed25519 signature (hex). */
  request: string
  signature: string
  /** For typed data: the values as a Python x402 client hands them to its signer. */
  typedDataInput?: { domain: Record<string, unknown>; message: Record<string, unknown>; primaryType: string }
}

/** The TypeScript SDK's actual request bodies for a fixed key (captured from its fetch), for the Python SDK to match byte for byte. */
export async function tsRequestVectors(agentKey: AgentKey = vectorKey()): Promise<RequestVector[]> {
  const out: RequestVector[] = []
  let name = ''
  const capture: typeof fetch = async (input, init) => {
    const body = JSON.parse(String(init?.body)) as { request: string; signature: string }
    out.push({ name, path: new URL(String(input)).pathname, ...body })
    // A refusal (not a transport error, which the SDK would resend until the deadline).
    return new Response(JSON.stringify({ code: 'request_invalid', message: 'captured' }), { status: 400 })
  }
  const host = 'http://127.0.0.1:1'
  const account = bursarAccount({
    host,
    agentKey,
    wallet: VECTOR_WALLET,
    fetch: capture,
    // The vectors are the Ed25519 framing the Python SDK speaks (it opens no MAC sessions).
    session: false,
    // Every answer here is a refusal (no receipt is ever checked); a fixed key keeps the checks on (docs/audit.md vector key).
    receiptPublicKey: 'ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c',
    context: { resourceUrl: 'http://127.0.0.1:4021/paid?q=café', reason: 'weather for the “report” — ☕\n\t\u0001 "quoted" \\ </script>' },
  })
  const domain = { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as Hex }
  const message = {
    from: VECTOR_WALLET,
    to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' as Hex,
    value: 10000n,
    validAfter: 0n,
    validBefore: 1893456000n,
    nonce: '0x5c3f0c7a6b2e4d1f8a9b0c1d2e3f405162738495a6b7c8d9eaf0b1c2d3e4f506' as Hex,
  }
  name = 'signTypedData eip3009 with context'
  await account.signTypedData({ domain, types: { TransferWithAuthorization: EIP3009_FIELDS }, primaryType: 'TransferWithAuthorization', message }).catch(() => {})
  out[out.length - 1]!.typedDataInput = {
    domain,
    primaryType: 'TransferWithAuthorization',
    message: { ...message, value: '10000', validAfter: '0', validBefore: '1893456000' },
  }
  name = 'signMessage unicode text'
  await account.signMessage({ message: 'héllo "x"\n\t\u0001\u001f ☕ 😀 \u2028 / \\' }).catch(() => {})
  name = 'readStatus'
  await readAgentStatus({ host, agentKey, wallet: VECTOR_WALLET, fetch: capture }).catch(() => {})
  name = 'readPayments limit'
  await readAgentPayments({ host, agentKey, wallet: VECTOR_WALLET, fetch: capture, limit: 7 }).catch(() => {})
  return out
}

/** The key file of VECTOR_KEY_SEED (RFC 8032 test vector 1: its public key is d75a98…511a). */
export function vectorKey(): AgentKey {
  const publicKey = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
  const agentId = agentIdFromPublicKey(Buffer.from(publicKey, 'hex'))
  return loadAgentKey({ agentId, publicKey, privateKey: VECTOR_KEY_SEED, wallet: VECTOR_WALLET })
}
