import { describe, expect, it, vi } from 'vitest'
import { ReleaseInOrder } from './releaseInOrder.js'

/** Responses with audit entries leave in seq order, so a crash leaves the host's log a prefix, never a hole (F1). */
describe('ReleaseInOrder', () => {
  it('a later response (a denial) waits for an earlier one (a payment being signed); consecutive ones go together', async () => {
    const r = new ReleaseInOrder()
    r.reset(10)
    const order: number[] = []
    const later = [r.wait(13, 14).then(() => order.push(13)), r.wait(12, 12).then(() => order.push(12)), r.wait(11, 11).then(() => order.push(11))]
    await new Promise((res) => setTimeout(res, 50))
    expect(order).toEqual([])
    await r.wait(10, 10)
    order.push(10)
    await Promise.all(later)
    expect(order).toEqual([10, 11, 12, 13])
    await r.wait(15, 15) // 13..14 released: 15 is next
  })

  it('a predecessor that never comes holds a response 2 s, then it leaves', async () => {
    // suite39: on the fake clock (was a wall-clock window of 1.9–4 s, which a loaded machine can miss): exact, and 2 s faster.
    vi.useFakeTimers()
    try {
      const r = new ReleaseInOrder()
      r.reset(0)
      let released = false
      const done = r.wait(5, 5).then(() => (released = true))
      await vi.advanceTimersByTimeAsync(1_999)
      expect(released).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await done
      expect(released).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  it('a response that next jumped past (a catchUp re-sent its entries) still leaves (catchUpWithholdsAnswer)', async () => {
    const r = new ReleaseInOrder()
    r.reset(10)
    let left = false
    const denial = r.wait(11, 11).then(() => (left = true))
    await r.wait(10, 12) // the catchUp: entries 10..12 (a payment being signed, the waiting denial, one more)
    await new Promise((res) => setTimeout(res, 50))
    expect(left).toBe(true)
    await denial
  })

  it('two responses waiting at the same first seq both leave, in order', async () => {
    const r = new ReleaseInOrder()
    r.reset(10)
    const order: string[] = []
    const both = [r.wait(11, 11).then(() => order.push('answer')), r.wait(11, 13).then(() => order.push('catchUp'))]
    await r.wait(10, 10)
    await Promise.race([Promise.all(both), new Promise((res) => setTimeout(res, 500))])
    expect(order.sort()).toEqual(['answer', 'catchUp'])
  })
})
