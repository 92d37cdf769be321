/**
 * The browser tests drive Debian's Chromium through playwright-core (which downloads no browser). A fresh
 * Debian machine (CI) may not have it: install it from Debian's packages, once, as the tests' setup.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The lock every apt-get this project runs takes (flock), shared with scripts/pg/ensurePostgres.ts. */
export const APT_LOCK = '/tmp/bursar-apt.lock'

const CANDIDATES = [process.env.BURSAR_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p)

/** The path of a Chromium executable, installing Debian's `chromium` package when none is there. */
export function ensureChromium(): string {
  const found = CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  const sudo = root ? [] : ['sudo', '-n']
  // One apt-get at a time across this machine's processes (scripts/pg/ensurePostgres.ts takes the same lock): the
  // test files that install run two at a time, and the global setup (test/globalSetup.ts) installs before any does.
  const flock = ['/usr/bin/flock', '/bin/flock'].find((p) => existsSync(p))
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...(flock ? [flock, '-w', '600', APT_LOCK] : []), ...sudo, ...args] as [string, ...string[]]
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 })
  }
  // And should another apt-get or dpkg hold dpkg's lock (unattended upgrades, a process not taking ours), wait for it
  // rather than fail (apt ≥ 1.9.11; DPkg::Lock::Timeout covers the dpkg frontend lock apt-get install takes).
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
