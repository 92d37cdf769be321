import { encode } from 'cborg'

/**
 * Issue 18: the recently decided agent request ids (`agent:nonce` → decision time), indexed per agent and per second
 * of that time, so a wallet's seal takes its agents' ids without scanning every other wallet's, and the CBOR of each
 * (agent, second) bucket is written once and reused by every later seal until the bucket expires (a second's ids
 * rarely change: a late-issued request may still join it, which extends the cached bytes, and a raised time moves an
 * id). Expiry drops whole buckets: an id is kept until its whole second is past the cutoff (≤ 1 s longer than
 * before, never shorter), so expiry is O(expired + seconds in the window).
 */
/** One agent's ids of one second: the CBOR tuples of keys[0, n), and bounds on their entries' seqs (dirty: not all logged). */
type Bucket = { keys: string[]; cbor: Uint8Array; n: number; lo: number; hi: number; dirty: boolean }
type AgentIds = { id: string; buckets: Map<number, Bucket>; wallets: Set<string> }

/** Sealed ids grouped by agent: [agentId, [[nonce, at], …]] (the agent id once, not in every key: about half the bytes). */
export type GroupedIds = Array<[string, Array<[string, number]>]>
/** `count` ids as CBOR, header included: what `encode(list)` writes for the same GroupedIds list. */
export type EncodedIds = { count: number; cbor: Uint8Array }

const agentOf = (key: string) => key.slice(0, key.lastIndexOf(':'))
const secondOf = (at: number) => Math.floor(at / 1000)

export class RecentIds {
  /** key → decision time. */
  readonly at = new Map<string, number>()
  /** The audit entry (seq, wallet) that decided a remembered id (none: no entry carries it, e.g. a dry run). */
  readonly entryOf = new Map<string, [number, string]>()
  private readonly agents = new Map<string, AgentIds>()
  private readonly seconds = new Map<number, Set<string>>() // second → agents with a bucket in it

  /** Records `key` at `at`, or raises a known key's time to `at` (a key's time only grows). */
  add(key: string, at: number): void {
    const old = this.at.get(key)
    if (old !== undefined && old >= at) return
    this.at.set(key, at)
    const id = agentOf(key)
    const a = this.agents.get(id) ?? this.agents.set(id, { id, buckets: new Map(), wallets: new Set() }).get(id)!
    if (old !== undefined) {
      const b = a.buckets.get(secondOf(old))!
      b.keys.splice(b.keys.indexOf(key), 1) // a raised time: rare (a load, a replayed entry)
      Object.assign(b, { cbor: new Uint8Array(0), n: 0 })
    }
    const s = secondOf(at)
    let b = a.buckets.get(s)
    if (!b) a.buckets.set(s, (b = { keys: [], cbor: new Uint8Array(0), n: 0, lo: Infinity, hi: -Infinity, dirty: true }))
    if (!this.seconds.get(s)?.add(a.id)) this.seconds.set(s, new Set([a.id]))
    b.keys.push(key)
    b.dirty = true
    const e = this.entryOf.get(key)
    if (e) (b.lo = Math.min(b.lo, e[0])), (b.hi = Math.max(b.hi, e[0]))
  }

  /** The entry (seq, wallet) that carries a remembered id. */
  log(key: string, entry: [number, string]): void {
    const at = this.at.get(key)
    if (at === undefined) return
    this.entryOf.set(key, entry)
    const a = this.agents.get(agentOf(key))!
    a.wallets.add(entry[1].toLowerCase())
    const b = a.buckets.get(secondOf(at))!
    ;(b.lo = Math.min(b.lo, entry[0])), (b.hi = Math.max(b.hi, entry[0]))
  }

  /**
   * Red team rt30b: the `max` ids admitted last (the Map's insertion order, which no agent-chosen time can move), or
   * undefined when every id fits. A seal over its cap keeps these, as before replay18: a flood in one wallet cannot
   * crowd another wallet's newer ids out of the seal by being sealed first, nor by dating its ids ahead.
   */
  newestAdmitted(max: number): ReadonlySet<string> | undefined {
    return this.at.size > max ? new Set([...this.at.keys()].slice(-Math.max(1, max))) : undefined
  }

  /** Forgets every id whose whole second is before `cutoff`. */
  expire(cutoff: number): void {
    for (const [s, ids] of this.seconds) {
      if (s * 1000 + 999 >= cutoff) continue
      for (const id of ids) {
        const a = this.agents.get(id)!
        for (const k of a.buckets.get(s)!.keys) this.at.delete(k), this.entryOf.delete(k)
        a.buckets.delete(s)
        if (a.buckets.size === 0) this.agents.delete(id)
      }
      this.seconds.delete(s)
    }
  }

  /**
   * The ids of these agents as sealed: per agent with ids, [agentId, [[nonce, at], …]] (seconds oldest first, each in
   * arrival order; the key is agentId:nonce), uncached.
   */
  listFor(agentIds: Iterable<string>): GroupedIds {
    return this.groupsOf(agentIds).map(([a, bs]) => [a.id, bs.flatMap((b) => b.keys.map((k): [string, number] => [k.slice(a.id.length + 1), this.at.get(k)!]))])
  }

  /**
   * `encode(listFor(agentIds))`, from the buckets' cached bytes; over `max` ids: the newest `max` (uncached); with
   * `keep`, only the ids in it (uncached).
   */
  encodedFor(agentIds: Iterable<string>, max = Number.POSITIVE_INFINITY, keep?: ReadonlySet<string>): EncodedIds {
    // rt30b: read twice below (groupsOf, listFor): a Map's keys() iterator would be empty the second time (a capped
    // wallet sealed no ids at all).
    agentIds = [...agentIds]
    const groups = this.groupsOf(agentIds)
    const count = groups.reduce((n, [, bs]) => bs.reduce((m, b) => m + b.keys.length, n), 0)
    if (count > max || keep) {
      const all = groups.flatMap(([, bs]) => bs.flatMap((b) => b.keys)).filter((k) => !keep || keep.has(k))
      const newest = new Set(all.sort((p, q) => this.at.get(p)! - this.at.get(q)!).slice(Math.max(0, all.length - Math.max(0, max))))
      const kept = this.listFor(agentIds).map(([a, ids]): GroupedIds[number] => [a, ids.filter(([n]) => newest.has(`${a}:${n}`))]).filter(([, ids]) => ids.length)
      return { count: newest.size, cbor: encode(kept) }
    }
    const h = new Uint8Array(9)
    const parts: Uint8Array[] = [h.subarray(0, head(h, 0, 0x80, groups.length))]
    for (const [a, bs] of groups) {
      const g = new Uint8Array(3 * a.id.length + 20)
      const { written } = utf8.encodeInto(a.id, g.subarray(10))
      g[0] = 0x82
      const off = head(g, 1, 0x60, written)
      g.copyWithin(off, 10, 10 + written)
      parts.push(g.subarray(0, head(g, off + written, 0x80, bs.reduce((n, b) => n + b.keys.length, 0))))
      for (const b of bs) {
        if (b.n < b.keys.length) (b.cbor = concat([b.cbor, tuples(b.keys.slice(b.n), a.id.length + 1, this.at)])), (b.n = b.keys.length)
        parts.push(b.cbor)
      }
    }
    return { count, cbor: concat(parts) }
  }

  /**
   * The ids of agents not in `skip` that neither the replayed log (entries after `from`) nor their wallet's newest
   * blob (entries up to `sealedAt(wallet)`) gives back: those no entry carries, and those decided after that blob.
   * A bucket whose ids all have entries outside that span is skipped unread.
   */
  unsealed(skip: ReadonlySet<string>, from: number, sealedAt: (wallet: string) => number): Array<[string, number]> {
    const out: Array<[string, number]> = []
    for (const a of this.agents.values()) {
      if (skip.has(a.id)) continue
      const after = Math.min(...[...a.wallets].map(sealedAt))
      for (const b of a.buckets.values()) {
        if (!b.dirty && (b.lo > from || b.hi <= after)) continue
        b.dirty = false
        for (const k of b.keys) {
          const e = this.entryOf.get(k)
          b.dirty ||= !e
          if (!e || (e[0] <= from && e[0] > sealedAt(e[1].toLowerCase()))) out.push([k, this.at.get(k)!])
        }
      }
    }
    return out
  }

  private groupsOf(agentIds: Iterable<string>): Array<[AgentIds, Bucket[]]> {
    const out: Array<[AgentIds, Bucket[]]> = []
    for (const id of new Set(agentIds)) {
      const a = this.agents.get(id)
      const bs = a ? [...a.buckets.keys()].sort((p, q) => p - q).map((s) => a.buckets.get(s)!) : []
      if (a && bs.some((b) => b.keys.length)) out.push([a, bs])
    }
    return out
  }
}

/**
 * `encode(obj)` with the values of `raw`'s keys already encoded: the same bytes, since cborg writes a map's (string)
 * keys shortest first, then bytewise, and every value's encoding stands alone.
 */
export function encodeWithRaw(obj: Record<string, unknown>, raw: Record<string, Uint8Array>): Uint8Array {
  const keys = Object.keys(obj).sort((p, q) => p.length - q.length || (p < q ? -1 : p > q ? 1 : 0))
  const h = new Uint8Array(9)
  return concat([h.subarray(0, head(h, 0, 0xa0, keys.length)), ...keys.flatMap((k) => [encode(k), raw[k] ?? encode(obj[k])])])
}

const utf8 = new TextEncoder()
let scratch = new Uint8Array(256)

/** [nonce, at] tuples (key minus its agent prefix) as cborg writes them, into one buffer; a time not a safe uint: cborg itself. */
function tuples(keys: string[], prefix: number, at: ReadonlyMap<string, number>): Uint8Array {
  const out = new Uint8Array(keys.reduce((n, k) => n + 3 * k.length + 19, 0))
  let off = 0
  for (const k of keys) {
    const t = at.get(k)!
    if (!Number.isSafeInteger(t) || t < 0) {
      const e = encode([k.slice(prefix), t])
      out.set(e, off)
      off += e.length
      continue
    }
    if (scratch.length < 3 * k.length) scratch = new Uint8Array(3 * k.length)
    const { written } = utf8.encodeInto(k.slice(prefix), scratch)
    out[off++] = 0x82
    off = head(out, off, 0x60, written)
    out.set(scratch.subarray(0, written), off)
    off = head(out, off + written, 0x00, t)
  }
  return out.subarray(0, off)
}

/** Writes a CBOR head (major type, minimal-length argument) at `off`; returns the offset after it. */
function head(out: Uint8Array, off: number, major: number, n: number): number {
  const size = n < 24 ? 0 : n < 256 ? 1 : n < 65536 ? 2 : n < 2 ** 32 ? 4 : 8
  out[off] = major | (size ? 24 + Math.log2(size) : n)
  for (let i = size, v = n; i > 0; i--, v = Math.floor(v / 256)) out[off + i] = v % 256
  return off + 1 + size
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) out.set(p, off), (off += p.length)
  return out
}
