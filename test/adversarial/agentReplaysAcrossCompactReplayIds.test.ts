import { decode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { type GroupedIds, RecentIds } from '../../core/replay/RecentIds.js'
import { ReplayCache } from '../../enclave/state/ReplayCache.js'
import { probeIds } from '../../core/replay/recentIdsProbe.js'

/**
 * Attack (red team rt31b on rss18b): a malicious agent (or many, or a host replaying their requests) tries to get one
 * request admitted twice through the compact replay ids (marker + a 2-byte agent index + the nonce's 16 bytes):
 * past 65,536 agents (an index that wrapped would make agent 65,536 share agent 0's keys), an index freed by expiry
 * and reused by another agent while the first comes back, nonces of 31/33 digits or upper case beside the 32-digit
 * one (compact and fallback keys side by side), and a seal → restart → load round trip (the reloaded cache must
 * still refuse every sealed id). Each resend must be `request_replayed`.
 */
const NONCE = '0123456789abcdef0123456789abcdef'
const agent = (i: number) => `agt_${i.toString(16).padStart(40, '0')}`

describe('adversarial: an agent replays a request across the compact replay ids', () => {
  it('70,000 agents with the same nonce: each admitted once, each resend refused (no index wraps at 65,536)', () => {
    const now = 1_000_000_000
    const cache = new ReplayCache(now - 60_000)
    for (let i = 0; i < 70_000; i++) cache.admit(agent(i), NONCE, now, now)
    expect(probeIds(cache.ids).size).toBe(70_000)
    for (const i of [0, 1, 255, 256, 65_535, 65_536, 65_537, 69_999])
      expect(() => cache.admit(agent(i), NONCE, now, now), `agent ${i}`).toThrow(expect.objectContaining({ code: 'request_replayed' }))
    // Every key lists back as itself.
    const keys = new Set([...cache.ids].map(([k]) => k))
    for (const i of [0, 65_535, 65_536, 69_999]) expect(keys.has(`${agent(i)}:${NONCE}`)).toBe(true)
  })

  it('an index freed by expiry and reused by another agent: the first agent and the reuser keep their own ids', () => {
    const ids = new RecentIds()
    ids.add(`${agent(1)}:${NONCE}`, 1_000)
    ids.expire(5_000) // agent 1 forgotten: its index is free
    ids.add(`${agent(2)}:${NONCE}`, 6_000) // reuses it
    expect(probeIds(ids).has(`${agent(1)}:${NONCE}`)).toBe(false)
    expect(ids.add(`${agent(1)}:${NONCE}`, 6_001, true)).toBe(true) // agent 1 again: a new index, a new id
    expect(ids.add(`${agent(2)}:${NONCE}`, 6_002, true)).toBe(false)
    expect(ids.add(`${agent(1)}:${NONCE}`, 6_003, true)).toBe(false)
    expect(new Set([...ids].map(([k]) => k))).toEqual(new Set([`${agent(1)}:${NONCE}`, `${agent(2)}:${NONCE}`]))
  })

  it('31/33-digit and upper-case nonces beside the 32-digit one: distinct ids, each refused on resend', () => {
    const ids = new RecentIds()
    const a = agent(7)
    const variants = [NONCE, NONCE.slice(1), `${NONCE}0`, NONCE.toUpperCase(), `c${NONCE.slice(1)}`, `g${a}:${NONCE}`.slice(0, 32)]
    for (const [i, n] of variants.entries()) expect(ids.add(`${a}:${n}`, 10_000 + i, true), n).toBe(true)
    for (const n of variants) expect(ids.add(`${a}:${n}`, 20_000, true), n).toBe(false)
    expect(probeIds(ids).size).toBe(variants.length)
  })

  it('seal → restart → load: every sealed id (compact and fallback, past 65,536 agents) is still refused', () => {
    const now = 2_000_000_000
    const before = new ReplayCache(now - 60_000)
    const agents = Array.from({ length: 66_000 }, (_, i) => agent(i))
    for (const [i, a] of agents.entries()) {
      before.admit(a, NONCE, now - (i % 20_000), now)
      before.logged(`${a}:${NONCE}`, [i, '0xAA'])
    }
    before.admit(agents[3]!, NONCE.slice(2), now, now)
    const sealed = decode(before.ids.encodedFor(agents).cbor) as GroupedIds
    const after = new ReplayCache(now + 1_000) // a new enclave process; the floor refuses nothing issued later
    for (const [a, list] of sealed) for (const [n, at] of list) after.remember(`${a}:${n}`, at)
    expect(probeIds(after.ids).size).toBe(66_001)
    for (const i of [0, 3, 65_535, 65_536, 65_999]) {
      const a = agents[i]!
      // A resend with the same signed issuedAt is refused as replayed (not merely before the floor): same admission time as the original.
      expect(after.ids.add(`${a}:${NONCE}`, now, true), a).toBe(false)
    }
    expect(after.ids.add(`${agents[3]}:${NONCE.slice(2)}`, now, true)).toBe(false)
  })
})
