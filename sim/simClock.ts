/**
 * SIMULATION-ONLY controllable clock for the simulated enclave: wall time plus an offset read from a file
 * (BURSAR_SIM_CLOCK_FILE, wired in sim/main.sim.ts only; enclave/main.ts never reaches sim/, checkBoundaries proves it).
 * Tests use it to let a time lock pass without waiting for it in real time (test/helpers/simClock.ts moves the
 * test process's own clock by the same offset, so agent requests and owner acts stay within the enclave's windows).
 * The offset only grows: a smaller, negative, unreadable or missing value keeps the last one, so enclave time never
 * runs backwards. The file is at most a few bytes; it is re-read at most every `recheckMs` of wall time.
 */
import { readFileSync } from 'node:fs'

export const SIM_CLOCK_MAX_OFFSET_MS = 365 * 86_400_000

export function createSimClock(file: string, recheckMs = 0): () => number {
  let offset = 0
  let checkedAt = -Infinity
  return () => {
    const wall = Date.now()
    if (wall - checkedAt >= recheckMs) {
      checkedAt = wall
      try {
        const v = Number(readFileSync(file, 'utf8').trim())
        if (Number.isSafeInteger(v) && v > offset && v <= SIM_CLOCK_MAX_OFFSET_MS) offset = v
      } catch {
        // missing or unreadable: keep the last offset
      }
    }
    return wall + offset
  }
}
