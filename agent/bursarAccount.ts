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
import type { KeyObject } from 'node:crypto'
import { toEd25519PublicKey } from '../shared/audit/toEd25519PublicKey.js'
import { BaseError } from '../shared/errors/base.js'
import { checkReceipt } from './checkReceipt.js'
import { ReceiptMarks } from './ReceiptMarks.js'

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
  /**
   * Receipt checks (default 'verify'; issue 15): every signature's audit receipt is verified under the trusted enclave
   * receipt key, must be this request's, and must lie above the wallet's high-water marks (else the signature is not
   * returned: ReceiptInvalidError / StateRollbackError). 'off' skips them and warns once per process: a host can then
   * hide a rollback or a forked enclave from this agent.
   */
  receipts?: 'verify' | 'off' | undefined
  /** The trusted enclave receipt key (hex, raw 32 bytes or SPKI DER, or PEM); default: the key file's `receiptPublicKey`. */
  receiptPublicKey?: string | undefined
  /** Where the high-water marks persist across restarts (default: memory only, shared by this process's accounts). */
  receiptMarksFile?: string | undefined
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
  const receipts = receiptChecks(params, agentKey)

  // SECURITY: the host is untrusted; a signature that is not the wallet's over the SDK's own digest is refused here,
  // then the receipt beside it must verify (checkReceipt) before the signature is handed out.
  const walletCheck = new WalletSignatureCheck(address)
  const ask = async (operation: AgentOperation, digest: Uint8Array, what: string): Promise<SignResponse> => {
    const context = typeof params.context === 'function' ? params.context() : params.context
    // The marks as they are before this request is sent: its receipt must lie above them.
    const before = receipts?.marks.before(receipts.keyHex, wallet)
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
    walletCheck.check(digest, response.signature, what)
    if (receipts)
      response.receiptCheck = checkReceipt({
        body: response as unknown as Record<string, unknown>,
        ...receipts,
        requestId: response.requestId,
        wallet,
        agentId: agentKey.agentId,
        digest: toHex(digest),
        before,
      })
    params.onReceipt?.(response, operation.op)
    return response
  }

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
      const { signature } = await ask({ op: 'signTypedData', typedData: json }, digest, 'typed-data')
      return signature
    },
    async signMessage({ message }) {
      const digest = hexToBytes(hashMessage(message))
      const { signature } = await ask({ op: 'signMessage', message: toMessageJson(message) }, digest, 'message')
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
      const { signature } = await ask({ op: 'signTransaction', transaction: tx }, digest, 'transaction')
      // What is returned is built here from what was asked plus the checked signature, never the host's serialization.
      const serialized = serializeTransaction(unsigned, parseSignature(signature))
      return serialized
    },
  })
}

let warnedOff = false

/** The trusted receipt key and the marks, or null when the checks are off (warned once per process, loudly). */
function receiptChecks(params: BursarAccountParameters, agentKey: AgentKey): { key: KeyObject; keyHex: string; marks: ReceiptMarks } | null {
  if (params.receipts === 'off') {
    if (!warnedOff) {
      warnedOff = true
      process.emitWarning(
        'bursar: receipt checks are OFF (receipts: \'off\'): signatures are returned without verifying their enclave receipts, so a host can hide a rolled-back or forked enclave from this agent. Do not run this in production.',
        { code: 'BURSAR_RECEIPTS_OFF' },
      )
    }
    return null
  }
  const configured = params.receiptPublicKey ?? agentKey.receiptPublicKey
  if (!configured)
    throw new BaseError('receipt_key_missing', 'bursarAccount: receipt checks are on but no trusted enclave receipt key is configured', {
      metaMessages: [
        'Pass receiptPublicKey, or use a key file written by `bursar owner agent add` (it carries the key the owner CLI pinned or verified by attestation).',
        "receipts: 'off' disables the checks (not for production: a host could then hide a rollback or fork).",
      ],
    })
  let key: KeyObject
  try {
    key = toEd25519PublicKey(configured)
  } catch (cause) {
    throw new AgentKeyError('bursarAccount: receiptPublicKey is not an Ed25519 public key', { cause })
  }
  const keyHex = Buffer.from(key.export({ format: 'der', type: 'spki' })).toString('hex').slice(-64)
  return { key, keyHex, marks: ReceiptMarks.for(params.receiptMarksFile) }
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
