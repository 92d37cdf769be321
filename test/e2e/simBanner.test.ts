import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { withFreePort } from '../../scripts/lib/freePort.js'
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

describe('make sim banner', () => {
  it('every command it prints exits 0 on a fresh data dir', async () => {
    let out = ''
    let err = ''
    // The sim is told its port: another file may take it between the pick and the host's bind. The host then exits
    // on EADDRINUSE, the sim stops, and this start is retried on another port.
    const port = await withFreePort(async (port) => {
      out = ''
      err = ''
      const dataDir = path.join(work, `data-${port}`) // fresh for each attempt
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/sim.ts')], {
        cwd: repoRoot,
        env: { ...process.env, BURSAR_DATA_DIR: dataDir, BURSAR_PORT: String(port), BURSAR_LOG_FORMAT: 'json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      sim = child
      let closed = false
      child.once('close', () => (closed = true))
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
      const logs: string[] = []
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString()
        logs.push(d.toString())
      })
      try {
        await waitFor(
          () => {
            if (out.includes('Ctrl-C stops both')) return true
            if (closed) throw new Error(`make sim exited before its banner\n${err.slice(-2000)}`)
            return false
          },
          90_000,
          'make sim banner',
          logs,
        )
      } catch (e) {
        if (!closed) child.kill('SIGINT') // the sim stops its enclave and host
        throw e
      }
      return port
    })

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
