import {
  type Address,
  type Hex,
  type SignableMessage,
  type TransactionSerializable,
  type TypedDataDefinition,
  hashMessage,
  hexToBytes,
  keccak256,
  parseSignature,
  serializeTransaction,
  toHex,
} from 'viem'
import { type LocalAccount, toAccount } from 'viem/accounts'
import type { TransactionJson, TypedDataJson } from '../shared/schemas/agentRequest.js'
import { AGENT_ERROR_CODES, AgentKeyError, BursarRequestError } from './errors.js'
import { hashTypedDataFast } from './hashTypedDataFast.js'
import { type AgentKey, loadAgentKey } from './loadAgentKey.js'
import { type AgentOperation, type AgentRequestContext, type SignResponse, requestSignature } from './requestSignature.js'
import { toJsonValue } from './toJsonValue.js'
import { WalletSignatureCheck } from './WalletSignatureCheck.js'

export type BursarAccountParameters = {
  /** Host base URL; defaults to the key file's `host`. */
  host?: string | undefined
  /** A loaded key, or a path to a key file / key object for `loadAgentKey`. */
  agentKey: AgentKey | string
  /** The wallet address the enclave signs for; defaults to the key file's `wallet`. */
  wallet?: Address | undefined
  /** The account's address if it differs from `wallet` (it normally does not). */
  address?: Address | undefined
  /** Advisory context sent with every request (resource URL, reason); a function is read at signing time. */
  context?: AgentRequestContext | (() => AgentRequestContext | undefined) | undefined
  /** Called with every enclave answer (receipts carry the audit head: keep them as high-water marks). */
  onReceipt?: ((response: SignResponse, operation: AgentOperation['op']) => void) | undefined
  fetch?: typeof globalThis.fetch | undefined
  timeoutMs?: number | undefined
  /** Per-session MAC instead of an Ed25519 signature per request (default true; see requestSignature). */
  session?: boolean | undefined
}

/**
 * A viem custom Account whose keys live in the bursar enclave: every
 * signTypedData / signTransaction / signMessage becomes an agent request to
 * the host, and the answer is checked before it is returned: the signature
 * must be the wallet's over the digest the SDK computed itself from what the
 * caller asked (WalletSignatureCheck: the wallet's key is proven from the
 * first answer, then every answer must recover to it). Plugs into
 * @x402/fetch and viem wallet clients unchanged.
 */
export function bursarAccount(params: BursarAccountParameters): LocalAccount {
  const agentKey = typeof params.agentKey === 'string' ? loadAgentKey(params.agentKey) : params.agentKey
  const host = params.host ?? agentKey.host
  const wallet = (params.wallet ?? agentKey.wallet) as Address | undefined
  if (!host) throw new AgentKeyError('bursarAccount: no host (pass host or put it in the key file)')
  if (!wallet) throw new AgentKeyError('bursarAccount: no wallet (pass wallet or put it in the key file)')
  const address = params.address ?? wallet

  const ask = async (operation: AgentOperation): Promise<SignResponse> => {
    const context = typeof params.context === 'function' ? params.context() : params.context
    const response = await requestSignature({
      host,
      agentKey,
      wallet,
      operation,
      context,
      fetch: params.fetch,
      timeoutMs: params.timeoutMs,
      session: params.session,
      // Typed data was already hashed here (what viem cannot hash is refused before sending); the enclave parses it.
      precheck: operation.op !== 'signTypedData',
    })
    params.onReceipt?.(response, operation.op)
    return response
  }
  // SECURITY: the host is untrusted; a signature that is not the wallet's over the SDK's own digest is refused here.
  const walletCheck = new WalletSignatureCheck(address)

  return toAccount({
    address,
    async signTypedData(typedData) {
      const def = typedData as TypedDataDefinition
      const domain = (toJsonValue(def.domain ?? {}) ?? {}) as Record<string, unknown>
      if (typeof domain.chainId === 'string' && Number.isSafeInteger(Number(domain.chainId)))
        domain.chainId = Number(domain.chainId)
      const json = {
        domain,
        types: toJsonValue(def.types),
        primaryType: def.primaryType,
        message: toJsonValue(def.message ?? {}),
      } as TypedDataJson
      // The digest comes first: typed data viem cannot hash is refused before anything is sent.
      const digest = hashTypedDataFast(def)
      const { signature } = await ask({ op: 'signTypedData', typedData: json })
      walletCheck.check(digest, signature, 'typed-data')
      return signature
    },
    async signMessage({ message }) {
      const digest = hexToBytes(hashMessage(message))
      const { signature } = await ask({ op: 'signMessage', message: toMessageJson(message) })
      walletCheck.check(digest, signature, 'message')
      return signature
    },
    async signTransaction(transaction) {
      const tx = toTransactionJson(transaction)
      const unsigned = {
        type: 'eip1559',
        chainId: tx.chainId,
        to: tx.to as Address,
        nonce: tx.nonce,
        gas: BigInt(tx.gas),
        maxFeePerGas: BigInt(tx.maxFeePerGas),
        maxPriorityFeePerGas: BigInt(tx.maxPriorityFeePerGas),
        ...(tx.value !== undefined ? { value: BigInt(tx.value) } : {}),
        ...(tx.data !== undefined ? { data: tx.data as Hex } : {}),
      } as const
      const digest = hexToBytes(keccak256(serializeTransaction(unsigned)))
      const { signature } = await ask({ op: 'signTransaction', transaction: tx })
      walletCheck.check(digest, signature, 'transaction')
      // What is returned is built here from what was asked plus the checked signature, never the host's serialization.
      const serialized = serializeTransaction(unsigned, parseSignature(signature))
      return serialized
    },
  })
}

function toMessageJson(message: SignableMessage): { text: string } | { raw: Hex } {
  if (typeof message === 'string') return { text: message }
  return { raw: typeof message.raw === 'string' ? message.raw : toHex(message.raw) }
}

/** Maps viem's transaction to the wire shape; only fully specified EIP-1559 transactions are signable. */
function toTransactionJson(tx: TransactionSerializable): TransactionJson {
  const t = tx as Partial<Record<string, unknown>> & TransactionSerializable
  const unsupported = (why: string) =>
    new BursarRequestError(AGENT_ERROR_CODES.transaction_unsupported, `bursar signs EIP-1559 transactions only: ${why}`)
  if (t.type !== undefined && t.type !== 'eip1559') throw unsupported(`type ${t.type}`)
  if (t.gasPrice !== undefined) throw unsupported('legacy gasPrice given')
  if (Array.isArray(t.accessList) && t.accessList.length > 0) throw unsupported('access lists are not supported')
  const need = { chainId: t.chainId, to: t.to, nonce: t.nonce, gas: t.gas, maxFeePerGas: t.maxFeePerGas }
  for (const [k, v] of Object.entries(need)) if (v === undefined || v === null) throw unsupported(`missing ${k}`)
  return {
    type: 'eip1559',
    chainId: Number(t.chainId),
    to: t.to as string,
    nonce: Number(t.nonce),
    gas: String(t.gas),
    maxFeePerGas: String(t.maxFeePerGas),
    maxPriorityFeePerGas: String(t.maxPriorityFeePerGas ?? 0n),
    ...(t.value !== undefined ? { value: String(t.value) } : {}),
    ...(t.data !== undefined && t.data !== '0x' ? { data: t.data } : {}),
  }
}
