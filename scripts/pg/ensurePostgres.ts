/**
 * A throwaway PostgreSQL cluster for tests and `make cluster`: installs Debian's `postgresql` when no server is
 * found (apt-get, as root), then `initdb -A trust` in a fresh temp folder and `pg_ctl start` on 127.0.0.1 at a
 * free port. The server refuses to run as root, so as root it runs as the `postgres` user (the folder lives under
 * /tmp, which every user can traverse). CLI: `npx tsx scripts/pg/ensurePostgres.ts` prints the URL and keeps the
 * cluster until Ctrl-C.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { APT_LOCK } from '../ensureChromium.js'

export type Postgres = { url: string; port: number; dir: string; stop(): void }

const PG_ROOT = '/usr/lib/postgresql'

/** The newest installed server's bin folder, or null. */
function findBin(): string | null {
  if (process.env.BURSAR_PG_BIN) return process.env.BURSAR_PG_BIN
  if (!existsSync(PG_ROOT)) return null
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(path.join(PG_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] ? path.join(PG_ROOT, versions[0], 'bin') : null
}

/** Installs Debian's server package when none is present (one installer at a time across processes: flock). */
export function ensurePostgresInstalled(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): string {
  const found = findBin()
  if (found) return found
  if (process.getuid?.() !== 0) throw new Error('PostgreSQL is not installed and this is not root: run `sudo apt-get install -y postgresql`')
  log('[pg] PostgreSQL not found: apt-get install -y postgresql (once)')
  const script =
    'export DEBIAN_FRONTEND=noninteractive; ' +
    `[ -d ${PG_ROOT} ] && ls ${PG_ROOT}/*/bin/initdb >/dev/null 2>&1 && exit 0; ` +
    '(apt-get -o DPkg::Lock::Timeout=600 install -y -q postgresql || (apt-get update -q && apt-get -o DPkg::Lock::Timeout=600 install -y -q postgresql)) >/tmp/bursar-pg-install.log 2>&1'
  // The apt lock Chromium's installer takes too (scripts/ensureChromium.ts): one apt-get at a time on this machine.
  const r = spawnSync('flock', [APT_LOCK, 'sh', '-c', script], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('apt-get install postgresql failed: see /tmp/bursar-pg-install.log')
  const bin = findBin()
  if (!bin) throw new Error('PostgreSQL installed but initdb not found under /usr/lib/postgresql')
  return bin
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Runs a server binary, as `postgres` when we are root (the server refuses root). */
function runAs(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0
  const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
  // Bounded: a synchronous call that hung would block the caller's event loop (a test worker's timeouts included).
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' })
}

/** Starts a fresh cluster (fsync off: throwaway data) and returns its URL; `stop()` stops it and removes the folder. */
export async function startPostgres(opts: { log?: (s: string) => void } = {}): Promise<Postgres> {
  const bin = ensurePostgresInstalled(opts.log)
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-pg-'))
  chmodSync(dir, 0o700)
  if (process.getuid?.() === 0) {
    const ids = execFileSync('id', ['-u', 'postgres']).toString().trim()
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim()
    chownSync(dir, Number(ids), Number(gid))
  }
  const data = path.join(dir, 'data')
  runAs(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'])
  let lastErr: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    try {
      runAs(path.join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        path.join(dir, 'log'),
        '-w',
        '-t',
        '30',
        '-o',
        `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
        'start',
      ])
    } catch (err) {
      lastErr = err
      continue
    }
    // A watchdog outside this process: whatever ends it (SIGKILL included), the throwaway cluster goes with it.
    const ctl = process.getuid?.() === 0 ? `runuser -u postgres -- ${path.join(bin, 'pg_ctl')}` : path.join(bin, 'pg_ctl')
    spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${ctl} -D '${data}' -m immediate -w stop >/dev/null 2>&1; rm -rf '${dir}'`], {
      detached: true,
      stdio: 'ignore',
    }).unref()
    let stopped = false
    const stop = () => {
      if (stopped) return
      stopped = true
      try {
        runAs(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '15', 'stop'])
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop }
  }
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`pg_ctl start failed: ${(lastErr as { stderr?: Buffer })?.stderr?.toString() ?? String(lastErr)}`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now()
  const pg = await startPostgres()
  console.log(pg.url)
  process.stderr.write(`[pg] started in ${Date.now() - t0} ms (data ${pg.dir}); Ctrl-C stops and removes it\n`)
  const bye = () => {
    pg.stop()
    process.exit(0)
  }
  process.on('SIGINT', bye)
  process.on('SIGTERM', bye)
  setInterval(() => {}, 1 << 30)
}
