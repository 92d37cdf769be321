/**
 * The browser tests drive Debian's Chromium through playwright-core (which downloads no browser). A fresh
 * Debian machine (CI) may not have it: install it from Debian's packages, once, as the tests' setup.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const CANDIDATES = [process.env.BURSAR_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p)

/** The path of a Chromium executable, installing Debian's `chromium` package when none is there. */
export function ensureChromium(): string {
  const found = CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  const sudo = root ? [] : ['sudo', '-n']
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args] as [string, ...string[]]
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 })
  }
  // Two browser test files start at once (vitest runs two files at a time): the second waits for the first's dpkg
  // lock instead of failing on it (then finds chromium installed).
  const install = ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', 'chromium']
  try {
    run(install)
  } catch {
    run(['apt-get', 'update', '-qq'])
    run(install)
  }
  const installed = CANDIDATES.find((p) => existsSync(p))
  if (!installed) throw new Error('apt-get installed chromium but no executable was found at /usr/bin/chromium')
  return installed
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(ensureChromium())
}
