import { encode } from 'cborg'
import { concat, head } from '../state/encodeWithRaw.js'

/**
 * Issue 18: the recently decided agent request ids (`agent:nonce` → decision time), indexed per agent and per second
 * of that time, so a wallet's seal takes its agents' ids without scanning every other wallet's, and the CBOR of each
 * (agent, second) bucket is written once and reused by every later seal until the bucket expires (a second's ids
 * rarely change: a late-issued request may still join it, which extends the cached bytes, and a raised time moves an
 * id). Expiry drops whole buckets: an id is kept until its whole second is past the cutoff (≤ 1 s longer than
 * before, never shorter), so expiry is O(expired + seconds in the window).
 */
/**
 * Issue 18 (rss18b): ids are held compact. A key `agentId:nonce` with a 32-hex nonce (every agent request's) is stored
 * as one 19-character Latin-1 string — 'c', the agent's index (2 chars), the nonce's 16 bytes — 40 B on the heap
 * against ~96 B for the 77-character key; any other key as 'g' + the key. One Map from that string to a slot, and the
 * slot's decision time, entry seq and wallet in typed columns: ~110 B per id instead of ~190 B in two Maps (a key
 * string, a boxed time and a [seq, wallet] array each). The full key is rebuilt only for listing.
 */
/** One agent's ids of one second: the CBOR tuples of keys[0, n) (compact keys), and bounds on their entries' seqs (tail37: `unlogged`, how many have no entry). */
type Bucket = { keys: string[]; cbor: Uint8Array; n: number; lo: number; hi: number; unlogged: number }
type AgentIds = { id: string; ix: number; buckets: Map<number, Bucket>; wallets: Set<string> }

/** Sealed ids grouped by agent: [agentId, [[nonce, at], …]] (the agent id once, not in every key: about half the bytes). */
export type GroupedIds = Array<[string, Array<[string, number]>]>
/** `count` ids as CBOR, header included: what `encode(list)` writes for the same GroupedIds list. */
export type EncodedIds = { count: number; cbor: Uint8Array }

const secondOf = (at: number) => Math.floor(at / 1000)
const HEX = '0123456789abcdef'
const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0))
const NIBBLE = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) NIBBLE[HEX.charCodeAt(i)] = i

const HEX32 = /[0-9a-f]{32}$/y

/** The 16 bytes of a 32-hex (lower-case) nonce that ends `key` from `from`, into `out`; false for any other nonce. */
function nonceBytes(key: string, from: number, out: number[]): boolean {
  HEX32.lastIndex = from
  if (!HEX32.test(key)) return false
  for (let i = 0; i < 16; i++) out[i] = (NIBBLE[key.charCodeAt(from + 2 * i)]! << 4) | NIBBLE[key.charCodeAt(from + 2 * i + 1)]!
  return true
}
const nb: number[] = new Array(16).fill(0)

export class RecentIds {
  /** compact key → slot. */
  private readonly index = new Map<string, number>()
  /** A slot's decision time, entry seq and wallet (an index in walletNames; -1: no entry): unboxed number arrays. */
  private readonly atCol: number[] = []
  private readonly seqCol: number[] = []
  private readonly walletCol: number[] = []
  private readonly free: number[] = []
  private readonly walletIx = new Map<string, number>()
  private readonly walletNames: string[] = []
  private readonly agents = new Map<string, AgentIds>()
  private readonly agentByIx: Array<AgentIds | undefined> = []
  private readonly freeIx: number[] = []
  private readonly seconds = new Map<number, Set<string>>() // second → agents with a bucket in it

  /** A remembered id's decision time. */
  timeOf(key: string): number | undefined {
    const s = this.slotOf(key)
    return s === undefined ? undefined : this.atCol[s]
  }

  /**
   * Records `key` at `at`, or raises a known key's time to `at` (a key's time only grows); with `onlyNew` a known key
   * is left as it is (the admission check: one key lookup, not two). True when the key was new.
   */
  add(key: string, at: number, onlyNew = false): boolean {
    const c = key.lastIndexOf(':')
    const a = this.agentFor(key.slice(0, c))
    const k = this.compact(a, key, c + 1)
    let slot = this.index.get(k)
    const old = slot === undefined ? undefined : this.atCol[slot]!
    if (old !== undefined && (onlyNew || old >= at)) return false
    if (slot === undefined) this.index.set(k, (slot = this.alloc()))
    this.atCol[slot] = at
    if (old !== undefined) {
      const b = a.buckets.get(secondOf(old))!
      b.keys.splice(b.keys.indexOf(k), 1) // a raised time: rare (a load, a replayed entry)
      Object.assign(b, { cbor: new Uint8Array(0), n: 0, unlogged: b.unlogged - +(this.walletCol[slot]! < 0) })
    }
    const s = secondOf(at)
    let b = a.buckets.get(s)
    if (!b) a.buckets.set(s, (b = { keys: [], cbor: new Uint8Array(0), n: 0, lo: Infinity, hi: -Infinity, unlogged: 0 }))
    if (!this.seconds.get(s)?.add(a.id)) this.seconds.set(s, new Set([a.id]))
    b.keys.push(k)
    b.unlogged += +(this.walletCol[slot]! < 0)
    if (this.walletCol[slot]! >= 0) (b.lo = Math.min(b.lo, this.seqCol[slot]!)), (b.hi = Math.max(b.hi, this.seqCol[slot]!))
    return old === undefined
  }

  /** The entry (seq, wallet) that carries a remembered id. */
  log(key: string, entry: [number, string]): void {
    const slot = this.slotOf(key)
    if (slot === undefined) return
    const wallet = entry[1].toLowerCase()
    let w = this.walletIx.get(wallet)
    if (w === undefined) this.walletIx.set(wallet, (w = this.walletNames.push(wallet) - 1))
    const a = this.agents.get(key.slice(0, key.lastIndexOf(':')))!
    a.wallets.add(wallet)
    const b = a.buckets.get(secondOf(this.atCol[slot]!))!
    b.unlogged -= +(this.walletCol[slot]! < 0)
    this.seqCol[slot] = entry[0]
    this.walletCol[slot] = w
    ;(b.lo = Math.min(b.lo, entry[0])), (b.hi = Math.max(b.hi, entry[0]))
  }

  /**
   * Red team rt30b: the `max` ids admitted last (the Map's insertion order, which no agent-chosen time can move), or
   * undefined when every id fits. A seal over its cap keeps these, as before replay18: a flood in one wallet cannot
   * crowd another wallet's newer ids out of the seal by being sealed first, nor by dating its ids ahead.
   */
  newestAdmitted(max: number): ReadonlySet<string> | undefined {
    return this.index.size > max ? new Set([...this].slice(-Math.max(1, max)).map(([k]) => k)) : undefined
  }

  /** Forgets every id whose whole second is before `cutoff`. */
  expire(cutoff: number): void {
    for (const [s, ids] of this.seconds) {
      if (s * 1000 + 999 >= cutoff) continue
      for (const id of ids) {
        const a = this.agents.get(id)!
        for (const k of a.buckets.get(s)!.keys) {
          const slot = this.index.get(k)!
          this.index.delete(k)
          this.free.push(slot)
        }
        a.buckets.delete(s)
        if (a.buckets.size === 0) this.agents.delete(id), (this.agentByIx[a.ix] = undefined), this.freeIx.push(a.ix)
      }
      this.seconds.delete(s)
    }
    if (this.index.size === 0) for (const c of [this.free, this.atCol, this.seqCol, this.walletCol]) c.length = 0
  }

  /**
   * The ids of these agents as sealed: per agent with ids, [agentId, [[nonce, at], …]] (seconds oldest first, each in
   * arrival order; the key is agentId:nonce), uncached.
   */
  listFor(agentIds: Iterable<string>): GroupedIds {
    return this.groupsOf(agentIds).map(([a, bs]) => [a.id, bs.flatMap((b) => b.keys.map((k): [string, number] => [this.nonceOf(k), this.atCol[this.index.get(k)!]!]))])
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
      const all = groups.flatMap(([a, bs]) => bs.flatMap((b) => b.keys.map((k) => this.full(a, k)))).filter((k) => !keep || keep.has(k))
      const newest = new Set(all.sort((p, q) => this.timeOf(p)! - this.timeOf(q)!).slice(Math.max(0, all.length - Math.max(0, max))))
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
        if (b.n < b.keys.length) (b.cbor = concat([b.cbor, this.tuples(b.keys.slice(b.n))])), (b.n = b.keys.length)
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
        if (b.unlogged === 0 && (b.lo > from || b.hi <= after)) continue // tail37: no re-scan of buckets whose new ids all have entries
        for (const k of b.keys) {
          const slot = this.index.get(k)!
          const w = this.walletCol[slot]!
          if (w < 0 || (this.seqCol[slot]! <= from && this.seqCol[slot]! > sealedAt(this.walletNames[w]!))) out.push([this.full(a, k), this.atCol[slot]!])
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

  private agentFor(id: string): AgentIds {
    let a = this.agents.get(id)
    if (!a) {
      const ix = this.freeIx.pop() ?? this.agentByIx.length
      this.agents.set(id, (a = { id, ix, buckets: new Map(), wallets: new Set() }))
      this.agentByIx[ix] = a
    }
    return a
  }

  /** [key, decision time] of every id, in admission order. */
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (const [k, s] of this.index) yield [this.full(this.agentByIx[k.charCodeAt(1) | (k.charCodeAt(2) << 8)]!, k), this.atCol[s]!]
  }

  /** The compact form of `key` (its nonce from `from`), for agent `a`. */
  private compact(a: AgentIds, key: string, from: number): string {
    if (a.ix > 0xffff || !nonceBytes(key, from, nb)) return `g${key}`
    return String.fromCharCode(0x63, a.ix & 0xff, a.ix >>> 8, nb[0]!, nb[1]!, nb[2]!, nb[3]!, nb[4]!, nb[5]!, nb[6]!, nb[7]!, nb[8]!, nb[9]!, nb[10]!, nb[11]!, nb[12]!, nb[13]!, nb[14]!, nb[15]!)
  }

  private slotOf(key: string): number | undefined {
    const c = key.lastIndexOf(':')
    const a = this.agents.get(key.slice(0, c))
    return a ? this.index.get(this.compact(a, key, c + 1)) : undefined
  }

  /** The nonce part of a compact key. */
  private nonceOf(k: string): string {
    if (k.charCodeAt(0) !== 0x63) return k.slice(k.lastIndexOf(':') + 1)
    let n = ''
    for (let i = 3; i < 19; i++) n += HEX[k.charCodeAt(i) >> 4]! + HEX[k.charCodeAt(i) & 15]!
    return n
  }

  private full(a: AgentIds, k: string): string {
    return k.charCodeAt(0) === 0x63 ? `${a.id}:${this.nonceOf(k)}` : k.slice(1)
  }

  private alloc(): number {
    const s = this.free.pop() ?? this.atCol.length
    ;(this.atCol[s] = 0), (this.seqCol[s] = 0), (this.walletCol[s] = -1)
    return s
  }

  /** [nonce, at] tuples as cborg writes them, into one buffer; a time not a safe uint: cborg itself. */
  private tuples(keys: string[]): Uint8Array {
    const out = new Uint8Array(keys.reduce((n, k) => n + 3 * k.length + 19 + 40, 0))
    let off = 0
    for (const k of keys) {
      const t = this.atCol[this.index.get(k)!]!
      if (k.charCodeAt(0) === 0x63 && Number.isSafeInteger(t) && t >= 0) {
        // A compact key: its nonce's 32 hex digits straight from the 16 bytes (no string built).
        ;(out[off] = 0x82), (out[off + 1] = 0x78), (out[off + 2] = 32), (off += 3)
        for (let i = 3; i < 19; i++) (out[off++] = HEX_CODES[k.charCodeAt(i) >> 4]!), (out[off++] = HEX_CODES[k.charCodeAt(i) & 15]!)
        off = head(out, off, 0x00, t)
        continue
      }
      const nonce = this.nonceOf(k)
      if (!Number.isSafeInteger(t) || t < 0) {
        const e = encode([nonce, t])
        out.set(e, off)
        off += e.length
        continue
      }
      if (scratch.length < 3 * nonce.length) scratch = new Uint8Array(3 * nonce.length)
      const { written } = utf8.encodeInto(nonce, scratch)
      out[off++] = 0x82
      off = head(out, off, 0x60, written)
      out.set(scratch.subarray(0, written), off)
      off = head(out, off + written, 0x00, t)
    }
    return out.subarray(0, off)
  }
}

const utf8 = new TextEncoder()
let scratch = new Uint8Array(256)
