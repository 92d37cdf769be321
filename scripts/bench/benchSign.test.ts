import { describe, expect, it } from 'vitest'
import { benchSign } from './benchSign.js'

describe('benchSign', () => {
  it('runs every case and reports a finite rate (no timing assertion)', async () => {
    const rows = await benchSign({ durationMs: 50 })
    expect(rows.map((r) => r.name)).toHaveLength(5)
    for (const r of rows) expect(Number.isFinite(r.opsPerSec) && r.opsPerSec > 0).toBe(true)
  })
})
