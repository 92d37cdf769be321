import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/agentClient.js'
import { repoRoot, waitFor } from '../helpers/startStack.js'

/**
 * A newcomer copies the commands `make sim` prints: each must work the first time (the attestation one failed
 * with ENOENT on the simulation root before the first attestation request). Runs scripts/sim.ts as `make sim`
 * does, parses its banner and runs every printed `npx bursar …` line as the spawned CLI, each exiting 0.
 */
const work = mkdtempSync(path.join(tmpdir(), 'bursar-sim-banner-'))
let sim: ChildProcess | undefined

afterAll(async () => {
  if (sim && sim.exitCode === null) {
    sim.kill('SIGINT')
    await waitFor(() => sim!.exitCode !== null || sim!.signalCode !== null, 10_000, 'sim exit').catch(() => sim!.kill('SIGKILL'))
  }
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

describe('make sim banner', () => {
  it('every command it prints exits 0 on a fresh data dir', async () => {
    const port = await freePort()
    const dataDir = path.join(work, 'data')
    sim = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/sim.ts')], {
      cwd: repoRoot,
      env: { ...process.env, BURSAR_DATA_DIR: dataDir, BURSAR_PORT: String(port), BURSAR_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    sim.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    sim.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    await waitFor(() => out.includes('Ctrl-C stops both'), 90_000, `make sim banner\n${err.slice(-2000)}`)

    const commands = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('npx bursar '))
      .map((l) => l.replace(/\s+#.*$/, '').split(/\s+/).slice(2))
    expect(commands.map((c) => c.slice(0, 2).join(' '))).toEqual(['demo', 'owner wallet', 'attestation fetch', 'audit verify', 'audit query', 'owner wallet'])
    const env = { HOME: work, BURSAR_OWNER_KEY: generatePrivateKey() }
    for (const args of commands) {
      const r = await runCli(args, env, work)
      expect(r.code, `${args.join(' ')}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`).toBe(0)
    }
    // The curl line: a read token the owner key signs for this host reads its wallets; none reads nothing.
    const curl = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('curl -H "Authorization: Bursar-Owner $(npx bursar audit token'))
    expect(curl).toBeDefined()
    const tokenArgs = /\$\(npx bursar (audit token [^)]+)\)/.exec(curl!)![1]!.split(/\s+/)
    const token = await runCli(tokenArgs, env, work)
    expect(token.code, token.stderr).toBe(0)
    const url = `http://127.0.0.1:${port}/v1/wallets`
    const mine = await fetch(url, { headers: { authorization: `Bursar-Owner ${token.stdout.trim()}` } })
    expect(mine.status).toBe(200)
    expect(((await mine.json()) as { wallets: unknown[] }).wallets.length).toBeGreaterThanOrEqual(1)
    expect((await fetch(url)).status).toBe(401)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(ready.status).toBe(200)
  }, 240_000)
})
