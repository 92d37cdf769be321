import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const work = mkdtempSync(path.join(tmpdir(), 'bursar-swap-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** One process swapping builds into `dest` `n` times (as two test files finding dist/pkg stale would): its error count. */
const SWAPPER = `
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
const { swapInto } = await import(${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, 'buildPackage.ts')).href)})
const [dest, n] = [process.argv[2], Number(process.argv[3])]
let errors = 0
const messages = new Set()
for (let i = 0; i < n; i++) {
  try {
    await swapInto(dest, (tmp) => {
      mkdirSync(tmp, { recursive: true })
      writeFileSync(path.join(tmp, 'built'), String(process.pid))
    })
  } catch (e) {
    errors++
    messages.add(String(e.code ?? e.message))
  }
}
console.log(JSON.stringify({ errors, messages: [...messages] }))
`

function swapper(dest: string, n: number): Promise<{ errors: number; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', path.join(work, 'swapper.mts'), dest, String(n)], { cwd: path.join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.once('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`swapper exited ${code}`))))
  })
}

describe('swapInto: two processes swapping the same build directory', () => {
  it('neither fails, and the directory always ends whole (one build, no leftovers)', async () => {
    writeFileSync(path.join(work, 'swapper.mts'), SWAPPER)
    const dest = path.join(work, 'pkg')
    const results = await Promise.all([swapper(dest, 300), swapper(dest, 300)])
    expect(results).toEqual([
      { errors: 0, messages: [] },
      { errors: 0, messages: [] },
    ])
    expect(readFileSync(path.join(dest, 'built'), 'utf8')).toMatch(/^\d+$/)
    expect(readdirSync(work).sort()).toEqual(['pkg', 'swapper.mts'])
  }, 60_000)
})
