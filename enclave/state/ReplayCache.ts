/**
 * Agent request replay protection. Nonces are remembered for the accepted
 * time window; requests issued before this enclave process started are
 * refused outright, so a restart (which empties this cache) cannot reopen a
 * window for captured requests. SECURITY: the floor is start + max skew,
 * because an agent clock may run ahead by up to `futureSkewMs`.
 */
export type ReplayCheck = 'ok' | 'request_stale' | 'request_not_yet_valid' | 'request_replayed' | 'request_before_enclave_start'

export class ReplayCache {
  private readonly seen = new Map<string, number>()
  private readonly floor: number
  private lastPrune = 0

  constructor(
    readonly startedAt: number,
    readonly pastWindowMs = 30_000,
    readonly futureSkewMs = 2_000,
  ) {
    this.floor = startedAt + futureSkewMs
  }

  /** Checks and, when fresh, records (agentId, nonce). */
  check(agentId: string, nonce: string, issuedAt: number, now: number): ReplayCheck {
    if (issuedAt > now + this.futureSkewMs) return 'request_not_yet_valid'
    if (issuedAt < now - this.pastWindowMs) return 'request_stale'
    if (issuedAt < this.floor) return 'request_before_enclave_start'
    const key = `${agentId}:${nonce}`
    if (this.seen.has(key)) return 'request_replayed'
    this.seen.set(key, issuedAt)
    if (now - this.lastPrune > 1_000) this.prune(now)
    return 'ok'
  }

  get size(): number {
    return this.seen.size
  }

  private prune(now: number): void {
    this.lastPrune = now
    const cutoff = now - this.pastWindowMs - this.futureSkewMs
    for (const [k, t] of this.seen) if (t < cutoff) this.seen.delete(k)
  }
}
