import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/startStack.js'

/** `bursar demo` is the first thing a newcomer runs: keep it working, end to end, as a real process. */
describe('bursar demo', () => {
  it('pays three calls, is refused on the fourth with no payment, and the audit log verifies', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), 'demo', '--json'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, BURSAR_HOST_URL: '' },
    })
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      calls: Array<{ status?: number; refused?: string }>
      auditOk: boolean
      settlements: number
    }
    expect(out.calls.slice(0, 3).every((c) => c.status === 200)).toBe(true)
    expect(out.calls[3]?.refused).toBe('policy_daily_cap_exceeded')
    expect(out.settlements).toBe(3)
    expect(out.auditOk).toBe(true)
  })
})
