/**
 * Builds the owner console (console/ → dist/console/) with Vite, only when its sources changed: the build
 * records a SHA-256 over every file it can import (console/, shared/, core/, the lockfile), and `make sim`,
 * the browser tests and a fresh clone rebuild whenever that differs.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_DIST = path.join(root, 'dist', 'console')
const STAMP = path.join(CONSOLE_DIST, '.sources-sha256')
const SOURCES = ['console', 'shared', 'core', 'package-lock.json']

function* files(p: string): Generator<string> {
  const st = statSync(p)
  if (st.isFile()) yield p
  else for (const n of readdirSync(p).sort()) if (n !== 'node_modules' && !n.endsWith('.test.ts')) yield* files(path.join(p, n))
}

/** SHA-256 over the console's possible inputs (paths and contents). */
export function consoleSourcesHash(): string {
  const h = createHash('sha256')
  for (const s of SOURCES) for (const f of files(path.join(root, s))) h.update(path.relative(root, f)).update('\0').update(readFileSync(f)).update('\0')
  return h.digest('hex')
}

/** Builds dist/console unless it was built from these exact sources; returns whether it built. */
export async function buildConsole(opts: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  const hash = consoleSourcesHash()
  if (!opts.force && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash && existsSync(path.join(CONSOLE_DIST, 'index.html'))) return false
  const t0 = Date.now()
  const { build } = await import('vite')
  await build({ configFile: path.join(root, 'console', 'vite.config.ts'), logLevel: 'warn' })
  writeFileSync(STAMP, `${hash}\n`)
  if (!opts.quiet) console.log(`built dist/console in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return true
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildConsole({ force: process.argv.includes('--force') })
}
