import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { AGENT_CLOCK_AHEAD_MS } from '../../shared/schemas/agentRequest.js'
import { RecentIds } from '../../core/replay/RecentIds.js'

/**
 * Agent request replay protection. Nonces are remembered for the accepted
 * time window; requests issued before this enclave process started are
 * refused outright, so a restart (which empties this cache) cannot reopen a
 * window for captured requests. SECURITY: the floor is start + max skew,
 * because an agent clock may run ahead by up to `futureSkewMs`.
 */
const REFUSALS = {
  request_replayed: 'This request (agent, nonce) was already seen',
  request_stale: 'Request issuedAt is too old; sign a fresh request',
  request_not_yet_valid: 'Request issuedAt is in the future; check the agent clock',
  request_before_enclave_start: 'Request was issued before this enclave started; sign a fresh request',
} as const

export class ReplayCache {
  /** Issue 18: the remembered ids per agent and second, each with the audit entry (seq, wallet) that decided it. */
  readonly ids = new RecentIds()
  private readonly floor: number
  private lastPrune = 0

  constructor(
    readonly startedAt: number,
    readonly pastWindowMs = 30_000,
    readonly futureSkewMs = AGENT_CLOCK_AHEAD_MS,
    /** The floor's distance from the start: futureSkewMs, except a simulation's (sim/main.sim.ts, floor40b). */
    floorAfterStartMs = futureSkewMs,
  ) {
    this.floor = startedAt + floorAfterStartMs
  }

  /**
   * Records (agentId, nonce) when fresh; otherwise throws the typed refusal (a request signed before this enclave's
   * start says when to retry). `floor` false (fix15): the wallet's ids came with it (loadWallet), so the start floor
   * has nothing to stand in for.
   */
  admit(agentId: string, nonce: string, issuedAt: number, now: number, floor = true): void {
    const refused = this.check(agentId, nonce, issuedAt, now, floor)
    if (!refused) return
    const retry = refused === 'request_before_enclave_start' ? this.floor - now + 1 : undefined
    throw new EnclaveError(refused, REFUSALS[refused], retry ? { extra: { retryAfterMs: Math.max(1, retry) } } : {})
  }

  private check(agentId: string, nonce: string, issuedAt: number, now: number, floor: boolean): keyof typeof REFUSALS | null {
    if (issuedAt > now + this.futureSkewMs) return 'request_not_yet_valid'
    if (issuedAt < now - this.pastWindowMs) return 'request_stale'
    if (floor && issuedAt < this.floor) return 'request_before_enclave_start'
    const key = `${agentId}:${nonce}`
    if (!this.ids.add(key, issuedAt, true)) return 'request_replayed'
    if (now - this.lastPrune > 1_000) this.prune(now)
    return null
  }

  /**
   * A request decided elsewhere (a sealed snapshot's recent ids, a replayed entry: both authenticated). `at` is its
   * decision time: a resend stays refused until it would be stale anyway (issuedAt ≤ at + futureSkewMs).
   */
  remember(key: string, at: number, entry?: [number, string]): void {
    this.ids.add(key, at)
    this.logged(key, entry)
  }

  /** The entry (seq, wallet) carries this admitted id: a replay of the log from before it gives it back. */
  logged(key: string, entry: [number, string] | undefined): void {
    if (entry) this.ids.log(key, entry)
  }

  private prune(now: number): void {
    this.lastPrune = now
    const cutoff = now - this.pastWindowMs - this.futureSkewMs
    this.ids.expire(cutoff)
  }
}
