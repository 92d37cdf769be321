import { mkdtempSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { vi } from 'vitest'

export type SimClock = {
  /** Pass to startStack / startQuorumWallet: the simulated enclave reads its clock offset from this file. */
  env: { BURSAR_SIM_CLOCK_FILE: string }
  /** Pass to startQuorumWallet's `cliEnv` (or runCli): spawned CLI runs read the same clock (simClockPreload.mjs). */
  cliEnv: { BURSAR_SIM_CLOCK_FILE: string; NODE_OPTIONS: string }
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
 * bound, 24 h read tokens, 10-minute webhook-setting skew). CLI runs spawned by the test keep wall time unless given
 * `cliEnv` (a preload moves their Date.now by the offset at their start); owner acts other than CreateWallet/
 * ImportWallet carry no time, so without it run those before advancing or keep shifts small.
 */
const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'simClockPreload.mjs')

export function simClock(): SimClock {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-clock-'))
  const file = path.join(dir, 'offset-ms')
  writeFileSync(file, '0')
  const wall = Date.now.bind(Date)
  let offset = 0
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => wall() + offset)
  return {
    env: { BURSAR_SIM_CLOCK_FILE: file },
    cliEnv: { BURSAR_SIM_CLOCK_FILE: file, NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${pathToFileURL(PRELOAD).href}`].filter(Boolean).join(' ') },
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
