/**
 * TRUST (availability): responses that carry audit entries leave in seq
 * order, so a denial answered at once cannot overtake an earlier payment
 * still being signed. The host stores what it gets in arrival order, so a
 * crash of the enclave (or of both) leaves the stored log a prefix of the
 * chain, never a hole the next load refuses (SECURITY.md F1). A response
 * whose predecessor never comes (a handler failed after appending) waits at
 * most WAIT_MS.
 */
const WAIT_MS = 2_000

export class ReleaseInOrder {
  /** The lowest seq not yet released. */
  private next = 0
  private readonly waiting = new Map<number, { last: number; go: () => void }>()

  /** After a load: the first seq this process appends. */
  reset(next: number): void {
    this.next = next
  }

  /**
   * Resolves when every entry before `first` has left. The next response is let go only after this one's send
   * (a later turn: sends run in microtasks), and then every consecutive waiting one at once, in order.
   */
  async wait(first: number, last: number): Promise<void> {
    if (first > this.next) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.release(first), WAIT_MS)
        this.waiting.set(first, { last, go: () => (clearTimeout(timer), resolve()) })
      })
    }
    setImmediate(() => this.release(last + 1))
  }

  private release(next: number): void {
    if (next > this.next) this.next = next
    for (let w = this.waiting.get(this.next); w; w = this.waiting.get(this.next)) {
      this.waiting.delete(this.next)
      this.next = w.last + 1
      w.go()
    }
  }
}
