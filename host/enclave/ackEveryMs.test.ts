import { describe, expect, it } from 'vitest'
import { ackEveryMs } from './ackEveryMs.js'

describe('ackEveryMs (BURSAR_TEST_ACK_EVERY_MS)', () => {
  it('is 2 s unless set to an integer 50–2000: the test hook can only make acks more frequent', () => {
    expect(ackEveryMs(undefined)).toBe(2_000)
    expect(ackEveryMs('100')).toBe(100)
    expect(ackEveryMs('50')).toBe(50)
    expect(ackEveryMs('2000')).toBe(2_000)
    for (const bad of ['', ' ', '0', '49', '2001', '60000', '-100', '1e9', '100.5', 'NaN', 'Infinity', 'abc']) expect(ackEveryMs(bad), bad).toBe(2_000)
  })
})
