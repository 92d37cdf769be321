/**
 * TRUST (availability): responses that carry audit entries leave in seq
 * order, so a denial answered at once cannot overtake an earlier payment
 * still being signed. The host stores what it gets in arrival order, so a
 * crash of the enclave (or of both) leaves the stored log a prefix of the
 * chain, never a hole the next load refuses (SECURITY.md F1). A response
 * whose predecessor never comes (a handler failed after appending) waits at
 * most WAIT_MS. Every waiting response leaves once everything before it has
 * left or been skipped, even if `next` jumped past its first seq (a catchUp
 * re-sends in-flight entries) or another shares that seq (catchUpWithholdsAnswer).
 */
const WAIT_MS = 2_000

export class ReleaseInOrder {
  /** The lowest seq not yet released (catchUp re-sends only entries below it: the others leave in their own answer). */
  next = 0
  /** Waiting responses, sorted by first seq. */
  private readonly waiting: Array<{ first: number; last: number; go: () => void }> = []

  /** After a load: the first seq this process appends. */
  reset(next: number): void {
    this.next = next
  }

  /**
   * Resolves when every entry before `first` has left. The next response is let go only after this one's send
   * (a later turn: sends run in microtasks), and then every waiting one it unblocks at once, in order.
   */
  async wait(first: number, last: number): Promise<void> {
    if (first > this.next) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.release(first), WAIT_MS)
        const at = this.waiting.findIndex((w) => w.first > first)
        this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { first, last, go: () => (clearTimeout(timer), resolve()) })
      })
    }
    setImmediate(() => this.release(last + 1))
  }

  private release(next: number): void {
    if (next > this.next) this.next = next
    while (this.waiting.length > 0 && this.waiting[0]!.first <= this.next) {
      const w = this.waiting.shift()!
      this.next = Math.max(this.next, w.last + 1)
      w.go()
    }
  }
}
