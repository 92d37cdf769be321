import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { vi } from 'vitest'

export type SimClock = {
  /** Pass to startStack / startQuorumWallet: the simulated enclave reads its clock offset from this file. */
  env: { BURSAR_SIM_CLOCK_FILE: string }
  /** How far the enclave's clock (and this process's Date.now) are ahead of wall time. */
  offsetMs(): number
  /** Moves the shared clock forward to at least `t` (+ `marginMs`) at once; never backwards. */
  advanceTo(t: number, marginMs?: number): void
  /** Gives this process its wall clock back (afterAll). */
  restore(): void
}

/**
 * One controllable clock for a test file and its simulated enclave (sim/simClock.ts): instead of sleeping until a
 * time lock falls due, a test moves time forward. The offset goes to the enclave through a file, and this process's
 * Date.now moves by the same offset, so the agent SDK's issuedAt/expiresAt and owner acts stay inside the enclave's
 * windows (replay window, clock-ahead allowance). Timers (setTimeout) and the host keep wall time; the host only
 * uses its clock for bounds that an agent or owner being ahead by minutes does not cross (request deadline as a wait
 * bound, 24 h read tokens, 10-minute webhook-setting skew). CLI runs spawned by the test keep wall time as well:
 * owner acts other than CreateWallet/ImportWallet carry no time, so run them before advancing or keep shifts small.
 */
export function simClock(): SimClock {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-clock-'))
  const file = path.join(dir, 'offset-ms')
  writeFileSync(file, '0')
  const wall = Date.now.bind(Date)
  let offset = 0
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => wall() + offset)
  return {
    env: { BURSAR_SIM_CLOCK_FILE: file },
    offsetMs: () => offset,
    advanceTo(t, marginMs = 300) {
      const need = t + marginMs - (wall() + offset)
      if (need <= 0) return
      offset += need
      // Written whole (rename) so the enclave never reads a partial number.
      writeFileSync(`${file}.tmp`, String(offset))
      renameSync(`${file}.tmp`, file)
    },
    restore: () => spy.mockRestore(),
  }
}
