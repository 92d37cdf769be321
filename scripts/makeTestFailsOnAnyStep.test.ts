/**
 * rt34b: `make test` runs typecheck + checkBoundaries and pytest in the background beside vitest (suite34). A failure
 * of any one must fail the target — whichever finishes first. The real Makefile recipe runs with stubs: `npx` and the
 * venv's python are scripts on PATH / PY_VENV that fail the step named in FAIL (the typecheck one after vitest ended,
 * so `wait` must still pick its status up); `install` and the venv stamp are taken as made (-o).
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'bursar-maketest-'))
const bin = join(dir, 'bin')
const venv = join(dir, 'venv')
mkdirSync(bin)
mkdirSync(join(venv, 'bin'), { recursive: true })
const script = (path: string, body: string) => (writeFileSync(path, `#!/bin/bash\n${body}\n`), chmodSync(path, 0o755))
script(join(bin, 'npx'), `case "$*" in
  "tsc --noEmit -p .") s=tsc-root ;; "tsc --noEmit -p console") s=tsc-console ;;
  "tsx scripts/checkBoundaries.ts") s=boundaries ;; vitest*) s=vitest ;; *) s=other ;; esac
echo "stub $s"; if [ "$s" = "$FAIL" ]; then [ "$s" = tsc-root ] && sleep 0.5; exit 3; fi; exit 0`)
script(join(venv, 'bin', 'python'), 'echo "stub pytest"; [ "$FAIL" = pytest ] && exit 5; exit 0')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function makeTest(fail: string): number | null {
  const makefile = resolve(import.meta.dirname, '..', 'Makefile')
  const r = spawnSync('make', ['-s', '-f', makefile, '-o', 'install', '-o', join(venv, '.bursar-installed'), `PY_VENV=${venv}`, 'test'], {
    cwd: dir, env: { ...process.env, FAIL: fail, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 20_000,
  })
  return r.status
}

describe('make test fails when any of its steps fails (stubbed steps, the real recipe)', () => {
  it('passes when every step passes', () => expect(makeTest('none')).toBe(0))
  for (const step of ['tsc-root', 'tsc-console', 'boundaries', 'vitest', 'pytest']) {
    it(`fails when ${step} fails`, () => expect(makeTest(step)).not.toBe(0))
  }
})
