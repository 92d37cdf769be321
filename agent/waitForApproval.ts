import type { Hex } from 'viem'
import { type AgentReadParameters, readAgentStatus } from './agentRead.js'
import { ApprovalPendingError, BursarRequestError } from './errors.js'
import type { AgentKey } from './loadAgentKey.js'

export type WaitForApprovalParameters = {
  /** The pending request id (`ApprovalPendingError.pendingId`), or the error itself. */
  pendingId: string | ApprovalPendingError
  agentKey: AgentKey
  /** Default: the key file's host and wallet. */
  host?: string | undefined
  wallet?: Hex | undefined
  /** Give up after this long (default 15 min, the default pending lifetime); the request may still be decided later. */
  timeoutMs?: number | undefined
  /** Poll interval (default 2 s). */
  intervalMs?: number | undefined
  signal?: AbortSignal | undefined
  fetch?: typeof globalThis.fetch | undefined
}

/** How an owner decided (or did not): `approved` means the same call, retried now, is signed once. */
export type ApprovalOutcome = { pendingId: string; status: 'approved' | 'rejected' | 'expired' | 'used' | 'timeout' }

/**
 * Waits for the owner's decision on a pending request by polling the agent's own signed status read. Resolve
 * `approved` → retry the exact call that raised ApprovalPendingError (it is signed once); `rejected`/`expired` →
 * do not retry; `timeout` → still pending. A pending id this agent does not have is an error (`pending_not_found`).
 *
 *   try { await pay(url) } catch (e) {
 *     if (e instanceof ApprovalPendingError && (await waitForApproval({ pendingId: e, agentKey })).status === 'approved') await pay(url)
 *   }
 */
export async function waitForApproval(params: WaitForApprovalParameters): Promise<ApprovalOutcome> {
  const pendingId = typeof params.pendingId === 'string' ? params.pendingId : params.pendingId.pendingId
  if (!pendingId) throw new BursarRequestError('request_invalid', 'waitForApproval needs a pending id (the ApprovalPendingError carried none)')
  const host = params.host ?? params.agentKey.host
  const wallet = params.wallet ?? (params.agentKey.wallet as Hex | undefined)
  if (!host || !wallet) throw new BursarRequestError('request_invalid', 'waitForApproval needs host and wallet (pass them, or use a key file that names them)')
  const read: AgentReadParameters = { host, wallet, agentKey: params.agentKey, fetch: params.fetch }
  const until = Date.now() + (params.timeoutMs ?? 15 * 60_000)
  const interval = Math.max(params.intervalMs ?? 2_000, 100)
  for (;;) {
    params.signal?.throwIfAborted()
    const status = await readAgentStatus(read)
    const p = status.pending.find((x) => x.id === pendingId)
    if (!p) throw new BursarRequestError('pending_not_found', `No pending request ${pendingId} for agent ${params.agentKey.agentId}`)
    const s = p.status === 'pending' && p.expiresAt <= status.now ? 'expired' : p.status
    if (s === 'approved' || s === 'rejected' || s === 'expired' || s === 'used') return { pendingId, status: s }
    if (Date.now() + interval > until) return { pendingId, status: 'timeout' }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, interval)
      params.signal?.addEventListener('abort', () => (clearTimeout(t), reject(params.signal?.reason)), { once: true })
    })
  }
}
