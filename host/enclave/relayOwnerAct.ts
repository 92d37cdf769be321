import { BaseError } from '../../shared/errors/base.js'
import { GovernanceDecideSchema } from '../../shared/governance/governanceProtocol.js'
import type { EnclaveRequest, OwnerActBody, TypedResponse } from '../../shared/protocol/messages.js'
import type { EnclaveClient } from './EnclaveClient.js'

/** How long an owner act waits for governance's connection (it starts beside the enclave) before governance_unavailable. */
const CONNECT_WAIT_MS = 5_000
/**
 * How many times one owner act is relayed again when the signer answers governance_stale: another act or an agent turn
 * changed what its view read (concurrent CreateWallets of one owner, a held act falling due). The same signed bytes go
 * round again (a fresh view, a fresh decision): the signer's checks decide, the host only forwards once more.
 */
const STALE_ATTEMPTS = 8

/**
 * UNTRUSTED (issue 12 stage B): one owner act, inside one HTTP request: ownerAct to the signer, which answers with the
 * MACed view and its sealed link key; both to governance's process (`decide`); its decision back to the signer with the
 * act (ownerActDecision), which applies it only for the view it sent. The host forwards bytes and decides nothing.
 * Governance unreachable or slow: governance_unavailable (503), and nothing was applied.
 */
export async function relayOwnerAct(
  call: <T extends 'ownerAct' | 'ownerActDecision'>(msg: Extract<EnclaveRequest, { type: T }>) => Promise<TypedResponse<T>>,
  governance: EnclaveClient | null,
  body: OwnerActBody,
): Promise<TypedResponse<'ownerActDecision'>> {
  for (let attempt = 1; ; attempt++) {
    const r = await relayOnce(call, governance, body)
    if (r.ok || r.error.code !== 'governance_stale' || attempt >= STALE_ATTEMPTS) return r
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt)) // jitter: racing acts spread out
  }
}

async function relayOnce(
  call: <T extends 'ownerAct' | 'ownerActDecision'>(msg: Extract<EnclaveRequest, { type: T }>) => Promise<TypedResponse<T>>,
  governance: EnclaveClient | null,
  body: OwnerActBody,
): Promise<TypedResponse<'ownerActDecision'>> {
  const first = await call({ type: 'ownerAct', ...body })
  if (!first.ok) return first
  if (!('needs' in first.result)) return { ok: true, result: first.result }
  const unavailable = (why: string) => ({ ok: false as const, error: { code: 'governance_unavailable', message: `Governance did not decide the owner act: ${why}; nothing was applied` } })
  if (!governance) return unavailable('this host has no governance process configured')
  if (!governance.connected) await waitConnected(governance, CONNECT_WAIT_MS)
  let decision: Uint8Array
  try {
    const r = await governance.call({ type: 'decide', view: first.result.view, link: first.result.link })
    if (!r.ok) return { ok: false, error: r.error }
    const parsed = GovernanceDecideSchema.safeParse(r.result)
    if (!parsed.success) return unavailable('its answer does not parse')
    decision = parsed.data.decision
  } catch (err) {
    return unavailable(err instanceof BaseError ? err.shortMessage : String(err))
  }
  return call({ type: 'ownerActDecision', ...body, decision })
}

function waitConnected(client: EnclaveClient, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t)
      client.off('connected', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    client.once('connected', done)
  })
}
