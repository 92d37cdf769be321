/**
 * TEST-ONLY preload (`node --import`, through NODE_OPTIONS: test/helpers/simClock.ts `cliEnv`) for CLI processes a
 * test spawns: Date.now is wall time plus the offset in BURSAR_SIM_CLOCK_FILE, read once at start (a CLI run is
 * short; the test moves the clock between runs), so owner acts that carry a time (CreateWallet, ImportWallet) are
 * signed on the simulated enclave's clock. Plain JavaScript: the bundled CLI runs without tsx.
 */
import { readFileSync } from 'node:fs'

const file = process.env.BURSAR_SIM_CLOCK_FILE
if (file) {
  let offset = 0
  try {
    const v = Number(readFileSync(file, 'utf8').trim())
    if (Number.isSafeInteger(v) && v > 0) offset = v
  } catch {
    // missing or unreadable: wall time
  }
  const wall = Date.now.bind(Date)
  Date.now = () => wall() + offset
}
