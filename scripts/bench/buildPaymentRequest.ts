import { type KeyObject, randomBytes, sign } from 'node:crypto'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

/** The bench's token (Base Sepolia USDC registry entry) and merchant; policies in setupBenchAgents allow exactly these. */
export const BENCH_CHAIN_ID = 84532
export const BENCH_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
export const BENCH_PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
export const BENCH_RESOURCE_URL = 'https://api.example.com/paid/report'
export const BENCH_PRICE = '10000'

/** One agent as the load generator needs it: id, raw Ed25519 seed and public key (hex) and the wallet it pays from. */
/** receiptPublicKey: the enclave receipt key the owner client trusts (the SDKs verify every receipt under it). */
export type BenchAgent = { agentId: string; seed: string; publicKey: string; wallet: `0x${string}`; receiptPublicKey?: string | undefined }

export type BuildPaymentRequestParameters = {
  agentId: string
  wallet: `0x${string}`
  /** The agent's Ed25519 private key (build it once per agent with ed25519PrivateKeyFromSeed); null: no signature (a session MACs the text). */
  key: KeyObject | null
  now?: number | undefined
}
export type BuildPaymentRequestReturnType = { text: string; signature: string; typedData: TypedDataJson }

/**
 * Builds and signs one x402-style agent request exactly as the SDK does on
 * the wire (agent/requestSignature.ts + @x402/evm's ExactEvmScheme): fresh
 * 16-byte request nonce, fresh issuedAt, a fresh 32-byte EIP-3009 nonce,
 * validAfter = now − 600 s, the x402 requirements in the context, the JSON
 * text serialized once and its UTF-8 bytes signed with Ed25519 (unless the
 * caller authenticates it inside a session).
 */
export function buildPaymentRequest(params: BuildPaymentRequestParameters): BuildPaymentRequestReturnType {
  const now = params.now ?? Date.now()
  const secs = Math.floor(now / 1000)
  const typedData: TypedDataJson = {
    domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC },
    types: {
      TransferWithAuthorization: [...EIP3009_FIELDS],
    },
    primaryType: 'TransferWithAuthorization',
    message: {
      from: params.wallet,
      to: BENCH_PAY_TO,
      value: BENCH_PRICE,
      validAfter: String(secs - 600),
      validBefore: String(secs + 300),
      nonce: `0x${randomBytes(32).toString('hex')}`,
    },
  }
  // Same key order as requestSignature: base fields, then the operation, then the context.
  const request = {
    v: 1,
    agentId: params.agentId,
    wallet: params.wallet,
    nonce: randomBytes(16).toString('hex'),
    issuedAt: now,
    expiresAt: now + 30_000,
    op: 'signTypedData',
    typedData,
    context: {
      resourceUrl: BENCH_RESOURCE_URL,
      reason: 'bench: x402 payment',
      requirements: {
        scheme: 'exact',
        network: `eip155:${BENCH_CHAIN_ID}`,
        asset: BENCH_USDC,
        amount: BENCH_PRICE,
        payTo: BENCH_PAY_TO,
        maxTimeoutSeconds: 300,
        extra: { name: 'USDC', version: '2' },
      },
    },
  }
  const text = JSON.stringify(request)
  const signature = params.key ? sign(null, Buffer.from(text, 'utf8'), params.key).toString('hex') : ''
  return { text, signature, typedData }
}
