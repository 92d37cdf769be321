import { decode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { ReplayCache } from '../../enclave/state/ReplayCache.js'

/**
 * Red team rt30b (replay18): the replay cache now keeps its ids in core/replay/RecentIds (per agent and second, cached
 * CBOR, whole-second expiry, grouped sealed format). Replay protection must be exactly as strong as before. This drives
 * the new ReplayCache and the previous one (a plain Map pruned by `t < cutoff`, main before replay18, re-stated below)
 * with the same adversarial sequences — resends at the exact millisecond and second edges of the window and of the
 * buckets, clock steps forward and back (Date.now can step back; the sim clock cannot), raised times from a replayed
 * log, and reloads from the sealed grouped ids into a standby started before the requests — and requires: whatever
 * the old cache refused as a replay, the new one refuses too (it may keep an id ≤ 1 s longer, never shorter).
 */
class OldReplayCache {
  private readonly seen = new Map<string, number>()
  private readonly floor: number
  private lastPrune = 0
  constructor(readonly startedAt: number, readonly pastWindowMs = 30_000, readonly futureSkewMs = 2_000) {
    this.floor = startedAt + futureSkewMs
  }
  check(agentId: string, nonce: string, issuedAt: number, now: number): string | null {
    if (issuedAt > now + this.futureSkewMs) return 'request_not_yet_valid'
    if (issuedAt < now - this.pastWindowMs) return 'request_stale'
    if (issuedAt < this.floor) return 'request_before_enclave_start'
    const key = `${agentId}:${nonce}`
    if (this.seen.has(key)) return 'request_replayed'
    this.seen.set(key, issuedAt)
    if (now - this.lastPrune > 1_000) this.prune(now)
    return null
  }
  remember(key: string, at: number) {
    this.seen.set(key, Math.max(at, this.seen.get(key) ?? 0))
  }
  get recent() {
    return [...this.seen]
  }
  private prune(now: number) {
    this.lastPrune = now
    const cutoff = now - this.pastWindowMs - this.futureSkewMs
    for (const [k, t] of this.seen) if (t < cutoff) this.seen.delete(k)
  }
}

const AGENTS = ['agt_' + '0'.repeat(40), 'agt_' + '0'.repeat(39) + '1', 'agt_' + 'f'.repeat(40)]
const NONCES = ['0'.repeat(32), '0'.repeat(31) + '1', 'a'.repeat(32)]
const T0 = 1_764_000_000_000 // a whole second
const admitCode = (c: ReplayCache, a: string, n: string, issuedAt: number, now: number): string | null => {
  try {
    c.admit(a, n, issuedAt, now)
    return null
  } catch (e) {
    if (e instanceof EnclaveError) return e.code
    throw e
  }
}

type Op =
  | { op: 'admit'; a: number; n: number; d: number }
  | { op: 'tick'; ms: number }
  | { op: 'remember'; a: number; n: number; d: number }
  | { op: 'reload' }
  | { op: 'resend'; i: number; k: number }

const edge = [-32_001, -32_000, -31_999, -30_001, -30_000, -29_999, -1001, -1000, -999, -1, 0, 1, 999, 1000, 1999, 2000, 2001]
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('admit' as const), a: fc.nat(2), n: fc.nat(2), d: fc.oneof(fc.constantFrom(...edge), fc.integer({ min: -31_000, max: 2_500 })) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.oneof(fc.constantFrom(1, 999, 1000, 1001, 2000, 29_999, 30_000, 32_000, 32_001, -1, -1000, -5_000, -31_000), fc.integer({ min: 0, max: 3_000 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remember' as const), a: fc.nat(2), n: fc.nat(2), d: fc.integer({ min: -3_000, max: 3_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reload' as const }) },
  // A request decided elsewhere (remembered at its decision time) resent with an issuedAt up to the skew after it.
  { weight: 3, arbitrary: fc.record({ op: fc.constant('resend' as const), i: fc.nat(20), k: fc.constantFrom(0, 1, 999, 1000, 1001, 1999, 2000) }) },
)

describe('replay protection across second boundaries, clock steps and grouped reloads (replay18)', () => {
  it('the new cache refuses every resend the old one refused', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 0, max: 999 }), (ops, phase) => {
        // The standby (and both caches) started well before the requests: the floor never hides a replay.
        const start = T0 - 60_000
        let now = T0 + phase
        let fresh = new ReplayCache(start)
        let old = new OldReplayCache(start)
        const remembered: Array<[number, number, number]> = []
        for (const o of ops) {
          if (o.op === 'tick') now += o.ms
          else if (o.op === 'admit') {
            const was = old.check(AGENTS[o.a]!, NONCES[o.n]!, now + o.d, now)
            const got = admitCode(fresh, AGENTS[o.a]!, NONCES[o.n]!, now + o.d, now)
            if (was !== null) expect(got).not.toBeNull()
            if (was === null && got !== null) expect(got).toBe('request_replayed') // only an id kept ≤ 1 s longer
          } else if (o.op === 'resend') {
            const r = remembered[o.i % Math.max(1, remembered.length)]
            if (!r) continue
            const [a, n, at] = r
            const was = old.check(AGENTS[a]!, NONCES[n]!, at + o.k, now)
            const got = admitCode(fresh, AGENTS[a]!, NONCES[n]!, at + o.k, now)
            if (was !== null) expect(got).not.toBeNull()
            if (was === null && got !== null) expect(got).toBe('request_replayed')
          } else if (o.op === 'remember') {
            remembered.push([o.a, o.n, now + o.d])
            const k = `${AGENTS[o.a]}:${NONCES[o.n]}`
            fresh.remember(k, now + o.d, [1, '0xW'])
            old.remember(k, now + o.d)
          } else {
            // A standby loads what a seal holds: every agent's ids, in the new grouped CBOR (decoded as the codec does).
            const enc = fresh.ids.encodedFor(AGENTS)
            const groups = decode(enc.cbor) as Array<[string, Array<[string, number]>]>
            const ids = groups.flatMap(([a, xs]) => xs.map(([n, at]): [string, number] => [`${a}:${n}`, at]))
            expect(ids.length).toBe(enc.count)
            expect(new Set(ids.map(([k]) => k))).toEqual(new Set([...fresh.ids].map(([k]) => k)))
            fresh = new ReplayCache(start)
            for (const [k, at] of ids) fresh.remember(k, at)
            const oldIds = old.recent
            old = new OldReplayCache(start)
            for (const [k, at] of oldIds) old.remember(k, at)
          }
        }
      }),
      { numRuns: Number(process.env.RT30B_RUNS ?? 300) },
    )
  })

  it('an id admitted at the last millisecond of a second is refused at every resend until it is stale', () => {
    const c = new ReplayCache(T0 - 60_000)
    const [a, n] = [AGENTS[0]!, NONCES[0]!]
    const issued = T0 + 999
    expect(admitCode(c, a, n, issued, issued)).toBeNull()
    for (let now = issued; now <= issued + 30_000; now += 250) {
      admitCode(c, AGENTS[1]!, `${now}`.padStart(32, '0'), now, now) // other traffic drives pruning
      expect(admitCode(c, a, n, issued, now)).toBe('request_replayed')
    }
    expect(admitCode(c, a, n, issued, issued + 30_001)).toBe('request_stale')
  })

  it('a request decided elsewhere (remembered at its decision time) stays refused up to the skew after it, at every phase of its second', () => {
    for (const phase of [0, 1, 499, 500, 998, 999]) {
      for (const [k, off] of [0, 1, 1000, 1999, 2000].flatMap((k) => [0, 130, 260, 390, 520, 650, 780, 910].map((off) => [k, off]))) {
        const c = new ReplayCache(T0 - 60_000)
        const at = T0 + phase
        c.remember(`${AGENTS[0]}:${NONCES[0]}`, at, [7, '0xW'])
        let i = 0
        for (let now = at + 28_000 + off!; now <= at + k! + 30_000 + 1_500; now += 37) {
          admitCode(c, AGENTS[1]!, `${i++}`.padStart(32, '0'), now, now) // other traffic drives pruning
          const got = admitCode(c, AGENTS[0]!, NONCES[0]!, at + k!, now)
          expect([phase, k, now - at, got]).toEqual([phase, k, now - at, at + k! < now - 30_000 ? 'request_stale' : 'request_replayed'])
        }
      }
    }
  })
})
