import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../../scripts/lib/startStack.js'

/** A copy of the sources checkBoundaries reads, with `planted` written into enclave/sign/ and imported by the signer. */
function checkoutWith(planted: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bursar-bounds-'))
  for (const d of ['core', 'enclave', 'governance', 'shared', 'sim', 'host', 'agent', 'cli', 'scripts']) {
    cpSync(path.join(repoRoot, d), path.join(root, d), { recursive: true, filter: (src) => !src.includes('node_modules') && !/\.test\.ts$/.test(src) })
  }
  for (const f of ['package.json', 'tsconfig.json']) cpSync(path.join(repoRoot, f), path.join(root, f))
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'))
  writeFileSync(path.join(root, 'enclave/sign/planted.ts'), planted)
  const engine = path.join(root, 'enclave/sign/secp256k1Engine.ts')
  writeFileSync(engine, `import './planted.js'\n${readFileSync(engine, 'utf8')}`)
  return root
}

const roots: string[] = []
function check(planted: string): { code: number | null; out: string } {
  const root = checkoutWith(planted)
  roots.push(root)
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/checkBoundaries.ts')], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, BURSAR_TRUSTED_BUDGET: '100000', BURSAR_SHELL_BUDGET: '100000' } })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

/**
 * Attack (on the trusted closure's guard): issue 18 taught checkBoundaries to
 * hold `createRequire(import.meta.url)('pkg')` to the enclave allowlist. A
 * package loaded another way (the require bound to a name first, or a plain
 * `require('pkg')`, which the bundle's banner defines) was not seen: a
 * non-allowlisted package could enter the enclave with checkBoundaries ok.
 */
describe('adversarial: a run-time require slips a package past the enclave allowlist', () => {
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true })
  })

  it('the unmodified copy passes (so the failures below are the planted code)', () => {
    const r = check('export {}\n')
    expect(r.out).toContain('checkBoundaries: ok')
    expect(r.code).toBe(0)
  }, 120_000)

  it('createRequire bound to a name, then called: refused', () => {
    const r = check("import { createRequire } from 'node:module'\nconst req = createRequire(import.meta.url)\nexport const pg = req('pg')\n")
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/planted\.ts.*(createRequire|require)/)
  }, 120_000)

  it('a plain require of a non-allowlisted package in the closure: refused', () => {
    const r = check("declare const require: (id: string) => unknown\nexport const pg = require('pg')\n")
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/pg, not on the enclave allowlist/)
  }, 120_000)
})
