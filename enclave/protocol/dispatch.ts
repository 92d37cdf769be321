/**
 * TRUST: turns an untrusted message into a typed request and routes it to
 * its handler, if the current phase accepts it. Unknown types, schema
 * failures and phase violations are typed errors; thrown BaseErrors become
 * `{ code, message }` and nothing else (no stacks, no details) leaves.
 */
import { BaseError } from '../../shared/errors/base.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { type EnclaveRequest, EnclaveRequestSchema, type EnclaveRequestType, PROTOCOL_VERSION } from '../../shared/protocol/requests.js'
import type { WireError } from '../../shared/protocol/messages.js'
import type { Enclave } from '../Enclave.js'
import { handleAgentSign } from '../agent/handleAgentSign.js'
import { handleAgentStatus } from '../agent/handleAgentStatus.js'
import { handleAttest } from '../attest/handleAttest.js'
import { applyOwnerAct, applyOwnerActDecision } from '../owner/applyOwnerAct.js'
import { describeWallet } from '../../core/owner/describeWallet.js'
import { finishLoad, parseReplayed, replayEntries } from '../state/loadState.js'
import type { HandlerResult } from './HandlerResult.js'
import { PHASE_ACCEPTS } from './phase.js'
import { SIGN_ENGINE } from '../sign/secp256k1Engine.js'

export const ENCLAVE_VERSION = '0.1.0'

/** Handles one decoded frame message; responses with audit entries leave in seq order (releaseInOrder). Never throws. */
export async function dispatch(enclave: Enclave, msg: unknown): Promise<HandlerResult> {
  const res = await routeTyped(enclave, msg)
  const texts = res.persist?.entries
  if (texts?.length) {
    const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq
    const [first, last] = enclave.blockSeqs.get(res.persist!) ?? [seqOf(texts[0]!), seqOf(texts[texts.length - 1]!)]
    await enclave.releaseOrder.wait(first, last)
  }
  return res
}

async function routeTyped(enclave: Enclave, msg: unknown): Promise<HandlerResult> {
  try {
    return await route(enclave, msg)
  } catch (err) {
    if (err instanceof EnclaveError) return { ok: false, error: { code: err.code, message: err.shortMessage, ...err.extra } }
    if (err instanceof BaseError) return { ok: false, error: err.toWire() }
    enclave.params.log(`internal error: ${(err as Error)?.stack ?? String(err)}`)
    return { ok: false, error: { code: 'internal_error', message: 'Internal error' } }
  }
}

/** One handler per request type, each returning that type's result (RESULT_SCHEMAS): a missing or mistyped one does not compile. */
const HANDLERS: { [T in EnclaveRequestType]: (enclave: Enclave, req: Extract<EnclaveRequest, { type: T }>) => Promise<HandlerResult<T>> | HandlerResult<T> } = {
  hello: (enclave, req) =>
    req.protocolVersion !== PROTOCOL_VERSION
      ? fail('protocol_version_unsupported', `Enclave speaks protocol ${PROTOCOL_VERSION}, not ${req.protocolVersion}`)
      : { ok: true, result: { protocolVersion: PROTOCOL_VERSION, mode: enclave.params.mode, phase: enclave.phase, enclaveVersion: ENCLAVE_VERSION, signEngine: SIGN_ENGINE, ...(enclave.audit?.chain && { chain: enclave.audit.chain }) } },
  loadState: async (enclave, req) => {
    await enclave.loadSnapshot(req.snapshot, req.wallets, req.newChain)
    return { ok: true, result: enclave.headResult() }
  },
  replayEntries: (enclave, req) => replayEntries(enclave, req.entries),
  finishLoad: (enclave) => finishLoad(enclave),
  catchUp: async (enclave, req) => ({ ok: true, ...(await enclave.catchUp(req.storedThrough, req.snapshotVersion)) }),
  ownerAct: applyOwnerAct,
  ownerActDecision: applyOwnerActDecision,
  agentSign: handleAgentSign,
  attest: (enclave, req) => handleAttest(enclave, req.nonce),
  getWallets: (enclave) => ({ ok: true, result: { wallets: [...enclave.state.wallets.values()].map((w) => describeWallet(w, enclave.now())) } }),
  agentStatus: handleAgentStatus,
  loadWallet: async (enclave, req) => ({ ok: true, ...(await enclave.loadWallet(req.wallet, req.blob, parseReplayed(enclave, req.entries))) }),
  dropWallet: async (enclave, req) => ({ ok: true, ...(await enclave.dropWallet(req.wallet)) }),
}
/** Requests that change state run in the single writer. */
const SERIAL: ReadonlySet<EnclaveRequestType> = new Set(['loadState', 'replayEntries', 'finishLoad', 'ownerAct', 'ownerActDecision', 'loadWallet', 'dropWallet'])

async function route(enclave: Enclave, msg: unknown): Promise<HandlerResult> {
  const type = (msg as { type?: unknown } | null)?.type
  const parsed = EnclaveRequestSchema.safeParse(msg)
  if (!parsed.success) {
    const known = EnclaveRequestSchema.options.some((o) => o.shape.type.value === type)
    if (!known) return fail('message_unknown_type', `Unknown message type ${String(type).slice(0, 40)}`)
    const issue = parsed.error.issues[0]
    return fail('message_invalid', `Invalid ${String(type)}: ${issue?.path.join('.')} ${issue?.message}`.slice(0, 200))
  }
  const req = parsed.data
  const accepted = () => PHASE_ACCEPTS[enclave.phase].includes(req.type)
  if (!accepted()) return phaseRefusal(enclave, req.type)
  // The request and its handler agree on T (HANDLERS' type); TypeScript cannot correlate the union here.
  const run = () => (HANDLERS[req.type] as (e: Enclave, r: EnclaveRequest) => Promise<HandlerResult> | HandlerResult)(enclave, req)
  // SECURITY: checked again in the writer: a request queued behind a phase change (finishLoad and loadState in one
  // write) runs only if its phase still holds (loadAfterReady).
  return SERIAL.has(req.type) ? enclave.queue.run(async () => (accepted() ? run() : phaseRefusal(enclave, req.type))) : run()
}

function phaseRefusal(enclave: Enclave, type: string): { ok: false; error: WireError } {
  const code = enclave.phase === 'halted' ? 'enclave_halted' : enclave.phase === 'ready' ? 'phase_illegal' : 'enclave_not_ready'
  return fail(code, `${type} is not accepted in phase ${enclave.phase}`)
}

function fail(code: ConstructorParameters<typeof EnclaveError>[0], message: string): { ok: false; error: WireError } {
  return { ok: false, error: { code, message } }
}
