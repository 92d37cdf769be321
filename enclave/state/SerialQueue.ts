/** Runs async jobs one at a time in arrival order (the enclave's single writer). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(job: () => Promise<T> | T): Promise<T> {
    const next = this.tail.then(() => job())
    this.tail = next.catch(() => {})
    return next
  }
}
