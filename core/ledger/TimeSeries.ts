/**
 * Exact windowed sums and counts over timestamped amounts: entries kept in
 * time order with running (prefix) sums, so "total after t" is a binary
 * search, O(log n), never a scan and never an approximation. Counters add
 * 1n per event and read `sumAfter` (entries in the same millisecond merge).
 */
export class TimeSeries {
  private times: number[] = []
  /**
   * Issue 18 (memory): amounts and running sums are plain numbers (a packed array, 8 bytes each; a BigInt costs ~32)
   * while `mass` = |base| + the sum of every |amount| added since the last compaction, which bounds each of them, is
   * a safe integer: then every sum is exact. The first amount that would break that turns the series' columns into
   * BigInts for good. Counters (1s) and stablecoin amounts stay numbers; 18-decimal amounts are BigInts.
   */
  private amounts: Int[] = []
  /** cum[i] = base + amounts[head..i]; valid for i >= head. */
  private cum: Int[] = []
  private head = 0
  private base: Int = 0
  private exact = true
  private mass = 0
  /**
   * Issue 18: the JSON text of runs of CHUNK entries, in index order, so that a seal re-encodes only what changed
   * since the last one. Invariant: each chunk's text is exactly the encoding of entries [start, start + CHUNK) of the
   * current arrays, head <= start; every mutation of those arrays below drops (or re-indexes) the chunks it touches.
   */
  private chunks: Array<{ start: number; text: string }> = []

  get size(): number {
    return this.times.length - this.head
  }

  /** Adds an entry; in time order it is O(1), out of order (clock moved back) it re-sorts the tail. */
  add(at: number, amount: bigint): void {
    const a = this.fit(amount)
    const n = this.times.length
    const last = n > this.head ? this.times[n - 1]! : Number.NEGATIVE_INFINITY
    if (at === last) {
      // Same millisecond: merge (exact, and keeps bursts compact).
      this.dropChunksFrom(n - 1)
      this.amounts[n - 1] = plus(this.amounts[n - 1]!, a)
      this.cum[n - 1] = plus(this.cum[n - 1]!, a)
      return
    }
    if (at > last) {
      this.times.push(at)
      this.amounts.push(a)
      this.cum.push(plus(this.prefix(n), a))
      return
    }
    const i = this.upperBound(at)
    this.dropChunksFrom(i)
    this.times.splice(i, 0, at)
    this.amounts.splice(i, 0, a)
    this.cum.splice(i, 0, a)
    for (let j = i; j < this.times.length; j++) this.cum[j] = plus(this.prefix(j), this.amounts[j]!)
  }

  /** Time of the newest live entry, or null. */
  lastTime(): number | null {
    return this.times.length > this.head ? this.times[this.times.length - 1]! : null
  }

  /** Sum of amounts of entries with time > t (conservative for entries dated in the future). */
  sumAfter(t: number): bigint {
    const n = this.times.length
    return BigInt(minus(this.prefix(n), this.prefix(this.upperBound(t))))
  }

  /** Drops entries with time <= t. */
  prune(t: number): void {
    this.dropBefore(this.upperBound(t))
  }

  /** Keeps only the newest n entries (counters whose limit is at most n stay exact for every decision). */
  keepLast(n: number): void {
    this.dropBefore(this.times.length - n)
  }

  /**
   * Merges entries at or before `before` into buckets of `bucketMs`, each
   * stamped at its bucket's END. Conservative by construction: an entry only
   * ever moves later, so every "sum after t" it was in still includes it (a
   * spend may stay in a rolling window up to bucketMs longer, never shorter).
   * Keeps a day of spends at ≤ 1,440 entries per key whatever the rate.
   */
  coalesce(before: number, bucketMs: number): void {
    const edge = Math.floor(before / bucketMs) * bucketMs
    const end = this.upperBound(edge)
    if (end - this.head < 2) return
    const times: number[] = []
    const amounts: Int[] = []
    for (let i = this.head; i < end; i++) {
      const b = Math.ceil(this.times[i]! / bucketMs) * bucketMs
      if (times.length > 0 && times[times.length - 1] === b) amounts[amounts.length - 1] = plus(amounts[amounts.length - 1]!, this.amounts[i]!)
      else {
        times.push(b)
        amounts.push(this.amounts[i]!)
      }
    }
    if (times.length === end - this.head) return
    // Cached text stays valid for entries after `end` (they move to index i - end + times.length) and for the
    // buckets an earlier coalesce made, up to the first merged entry that differs (they move to index i - head).
    let same = 0
    while (same < times.length && times[same] === this.times[this.head + same] && amounts[same] === this.amounts[this.head + same]) same++
    this.chunks = this.chunks.filter((c) => c.start >= end || c.start + CHUNK <= this.head + same).map((c) => ({ start: c.start + (c.start >= end ? times.length - end : -this.head), text: c.text }))
    const cum: Int[] = []
    let run = this.base
    for (const a of amounts) cum.push((run = plus(run, a)))
    this.times = [...times, ...this.times.slice(end)]
    this.amounts = [...amounts, ...this.amounts.slice(end)]
    this.cum = [...cum, ...this.cum.slice(end)]
    this.head = 0
  }

  /** Plain JSON: [time, amount] pairs of live entries. */
  toJSON(): [number, string][] {
    const out: [number, string][] = []
    for (let i = this.head; i < this.times.length; i++) out.push([this.times[i]!, this.amounts[i]!.toString()])
    return out
  }

  /**
   * Exactly `JSON.stringify(this.toJSON())`, re-encoding only entries not in a cached chunk (the newest ones, and
   * those a mutation touched since the last call), and caching new full chunks except the newest entry's (it may
   * still merge). Property-tested against JSON.stringify (TimeSeries.jsonText.test.ts).
   */
  toJSONText(): string {
    const out: string[] = []
    const kept: typeof this.chunks = []
    let i = this.head
    // Encodes [i, to) fresh, caching whole chunks that end by cacheTo.
    const fill = (to: number, cacheTo: number, next?: { start: number; text: string }) => {
      for (; cacheTo - i >= CHUNK; i += CHUNK) out.push(kept[kept.push({ start: i, text: this.encode(i, i + CHUNK) }) - 1]!.text)
      if (i < to) out.push(this.encode(i, to))
      if (next) out.push(kept[kept.push(next) - 1]!.text)
      i = to + (next ? CHUNK : 0)
    }
    for (const c of this.chunks) fill(c.start, c.start, c)
    fill(this.times.length, this.times.length - 1)
    this.chunks = kept
    return `[${out.join(',')}]`
  }

  static fromJSON(entries: readonly (readonly [number, string])[]): TimeSeries {
    const s = new TimeSeries()
    for (const [t, a] of entries) s.add(t, BigInt(a))
    return s
  }

  /** JSON text of entries [from, to), comma-separated: `[t,"amount"]` as JSON.stringify writes a [number, string] pair. */
  private encode(from: number, to: number): string {
    const out: string[] = []
    for (let i = from; i < to; i++) out.push(`[${jsonNumber(this.times[i]!)},"${this.amounts[i]!.toString()}"]`)
    return out.join(',') // one flat string (a cached rope would be walked again by every seal)
  }

  /** Forgets the cached text of every chunk holding index i or a later one (those entries changed or moved). */
  private dropChunksFrom(i: number): void {
    while (this.chunks.length > 0 && this.chunks[this.chunks.length - 1]!.start + CHUNK > i) this.chunks.pop()
  }

  /** The amount as this series stores it, first widening the columns to BigInts if it could break exactness. */
  private fit(amount: bigint): Int {
    if (!this.exact) return amount
    const mass = this.mass + Number(amount < 0n ? -amount : amount)
    if (mass <= Number.MAX_SAFE_INTEGER) {
      this.mass = mass
      return Number(amount)
    }
    this.exact = false
    this.amounts = this.amounts.map(BigInt)
    this.cum = this.cum.map(BigInt)
    this.base = BigInt(this.base)
    return amount
  }

  /** Sum of entries before index i (i >= head). */
  private prefix(i: number): Int {
    return i > this.head ? this.cum[i - 1]! : this.base
  }

  /** First index >= head whose time is > t. */
  private upperBound(t: number): number {
    let lo = this.head
    let hi = this.times.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.times[mid]! <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Drops the entries before index i (none if i <= head), folding their sum into `base`. */
  private dropBefore(i: number): void {
    if (i <= this.head) return
    this.base = this.prefix(i)
    this.head = i
    while (this.chunks.length > 0 && this.chunks[0]!.start < i) this.chunks.shift()
    if (this.head > 64 && this.head * 2 > this.times.length) this.compact()
  }

  private compact(): void {
    const b = this.base
    this.times = this.times.slice(this.head)
    this.amounts = this.amounts.slice(this.head)
    this.cum = this.cum.slice(this.head).map((c) => minus(c, b))
    this.chunks = this.chunks.map((c) => ({ start: c.start - this.head, text: c.text }))
    this.head = 0
    this.base = this.exact ? 0 : 0n
    if (this.exact) this.mass = this.amounts.reduce<number>((m, a) => m + Math.abs(a as number), 0)
  }
}

/** An amount or running sum: a number while its series is exact (safe integers only), else a BigInt; never mixed. */
type Int = number | bigint
// Both operands are of one kind (a series' columns and base are all numbers or all BigInts), which + and - accept.
const plus = (a: Int, b: Int): Int => (a as number) + (b as number)
const minus = (a: Int, b: Int): Int => (a as number) - (b as number)

/** Entries per cached chunk of JSON text: a seal re-encodes at most about 2 × CHUNK entries of each series. */
const CHUNK = 64

/** What JSON.stringify writes for a number. */
const jsonNumber = (t: number): string => (Number.isFinite(t) ? String(t) : 'null')
