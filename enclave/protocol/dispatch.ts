/**
 * TRUST: turns an untrusted message into a typed request and routes it to
 * its handler, if the current phase accepts it. Unknown types, schema
 * failures and phase violations are typed errors; thrown BaseErrors become
 * `{ code, message }` and nothing else (no stacks, no details) leaves.
 */
import { BaseError } from '../../shared/errors/base.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { EnclaveRequestSchema, PROTOCOL_VERSION } from '../../shared/protocol/requests.js'
import type { Enclave } from '../Enclave.js'
import { handleAgentSign } from '../agent/handleAgentSign.js'
import { handleAgentStatus } from '../agent/handleAgentStatus.js'
import { handleAttest } from '../attest/handleAttest.js'
import { applyOwnerAct } from '../owner/applyOwnerAct.js'
import { describeWallets } from '../owner/describeWallets.js'
import { finishLoad, replayEntries } from '../state/loadState.js'
import type { HandlerResult } from './HandlerResult.js'
import { PHASE_ACCEPTS } from './phase.js'

export const ENCLAVE_VERSION = '0.1.0'

/** Handles one decoded frame message; responses with audit entries leave in seq order (releaseInOrder). Never throws. */
export async function dispatch(enclave: Enclave, msg: unknown): Promise<HandlerResult> {
  const res = await routeTyped(enclave, msg)
  const texts = res.persist?.entries
  if (texts?.length) {
    const seqOf = (t: string) => (JSON.parse(t) as { seq: number }).seq
    await enclave.releaseOrder.wait(seqOf(texts[0]!), seqOf(texts[texts.length - 1]!))
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
  if (!PHASE_ACCEPTS[enclave.phase].includes(req.type)) return phaseRefusal(enclave, req.type)
  // SECURITY: checked again in the writer: a request queued behind a phase change (finishLoad and loadState in one
  // write) runs only if its phase still holds (loadAfterReady).
  const serial = (job: () => Promise<HandlerResult>) =>
    enclave.queue.run(() => (PHASE_ACCEPTS[enclave.phase].includes(req.type) ? job() : phaseRefusal(enclave, req.type)))
  switch (req.type) {
    case 'hello':
      if (req.protocolVersion !== PROTOCOL_VERSION) {
        return fail('protocol_version_unsupported', `Enclave speaks protocol ${PROTOCOL_VERSION}, not ${req.protocolVersion}`)
      }
      return {
        ok: true,
        result: { protocolVersion: PROTOCOL_VERSION, mode: enclave.params.mode, phase: enclave.phase, enclaveVersion: ENCLAVE_VERSION },
      }
    case 'loadState':
      return serial(async () => {
        await enclave.loadSnapshot(req.snapshot)
        return { ok: true, result: enclave.headResult() }
      })
    case 'replayEntries':
      return serial(() => replayEntries(enclave, req.entries))
    case 'finishLoad':
      return serial(() => finishLoad(enclave))
    case 'catchUp':
      return { ok: true, ...(await enclave.catchUp(req.storedThrough, req.snapshotVersion)) }
    case 'ownerAct':
      return serial(() => applyOwnerAct(enclave, req))
    case 'agentSign':
      return handleAgentSign(enclave, req)
    case 'attest':
      return handleAttest(enclave, req.nonce)
    case 'getWallets':
      return { ok: true, result: { wallets: describeWallets(enclave) } }
    case 'agentStatus': return handleAgentStatus(enclave, req)
  }
}

function phaseRefusal(enclave: Enclave, type: string): HandlerResult {
  const code = enclave.phase === 'halted' ? 'enclave_halted' : enclave.phase === 'ready' ? 'phase_illegal' : 'enclave_not_ready'
  return fail(code, `${type} is not accepted in phase ${enclave.phase}`)
}

function fail(code: ConstructorParameters<typeof EnclaveError>[0], message: string): HandlerResult {
  return { ok: false, error: { code, message } }
}
