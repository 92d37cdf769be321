import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../test/helpers/startStack.js'
import { createSimClock } from './simClock.js'

const closureOf = async (entry: string) => {
  const r = await build({ entryPoints: [path.join(repoRoot, entry)], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, metafile: true, logLevel: 'silent' })
  return Object.keys(r.metafile.inputs)
}

describe('createSimClock (simulation only)', () => {
  it('is wall time plus the offset in its file; the offset only grows; garbage or a missing file keeps the last one', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-simclock-')), 'offset-ms')
    const now = createSimClock(file)
    // suite40: the clock read between two reads of the wall clock, plus the offset (was within 1 s of one wall read).
    const near = (offset: number) => {
      const before = Date.now()
      const t = now()
      expect(t).toBeGreaterThanOrEqual(before + offset)
      expect(t).toBeLessThanOrEqual(Date.now() + offset)
    }
    near(0) // no file yet
    writeFileSync(file, '600000')
    near(600_000)
    for (const bad of ['', 'x', '-5', '1.5', '100', String(400 * 86_400_000)]) {
      writeFileSync(file, bad)
      near(600_000)
    }
    writeFileSync(file, '900000\n')
    near(900_000)
  })

  it('never reaches the production entrypoint: enclave/main.ts bundles neither sim/simClock.ts nor its setting', async () => {
    // The simulated entrypoint does (so this check can fail), the production one does not.
    expect(await closureOf('sim/main.sim.ts')).toContain('sim/simClock.ts')
    const prod = await closureOf('enclave/main.ts')
    expect(prod.filter((f) => f.startsWith('sim/'))).toEqual([])
    // The built production bundle (test/globalSetup.ts) ignores BURSAR_SIM_CLOCK_FILE: the name is not in it.
    expect(readFileSync(path.join(repoRoot, 'dist/enclave.sim.mjs'), 'utf8')).toContain('BURSAR_SIM_CLOCK_FILE')
    expect(readFileSync(path.join(repoRoot, 'dist/enclave.mjs'), 'utf8')).not.toContain('BURSAR_SIM_CLOCK_FILE')
    expect(readFileSync(path.join(repoRoot, 'enclave/main.ts'), 'utf8')).not.toMatch(/\bnow\s*:/)
  })
})
