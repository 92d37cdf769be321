import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, waitFor } from '../../scripts/lib/startStack.js'

/** Running (a zombie waiting for its new parent to reap it has exited: not alive). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/**
 * A test process that dies without stopping its stack (a vitest worker torn down after a timeout, SIGKILL) takes the
 * stack with it: enclave and host (scripts/lib/spawnReaped.ts: own process group, SIGKILLed by a watchdog outside
 * the dead process), PostgreSQL (its pg_ctl watchdog) and anvil (setpriv --pdeathsig). Before spawnReaped the enclave
 * and host kept running as orphans (NOTES suite34: each benchSdkSmoke timeout left its stack behind).
 */
describe('a stack dies with the test process that started it', () => {
  it('SIGKILL to the owner: enclave, host, PostgreSQL and anvil are gone within seconds', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/fixtures/holdStack.ts'), '--postgres'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const logs: string[] = []
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => logs.push(d.toString()))
    try {
      await waitFor(() => out.includes('\n'), 50_000, 'the stack owner’s pids', logs)
      const pids = JSON.parse(out) as Record<string, number>
      expect(Object.keys(pids).sort()).toEqual(['anvil', 'enclave', 'host', 'postgres'])
      for (const [name, pid] of Object.entries(pids)) expect(alive(pid), name).toBe(true)
      child.kill('SIGKILL')
      await waitFor(() => Object.values(pids).every((pid) => !alive(pid)), 15_000, `every pid gone (${JSON.stringify(pids)})`)
    } finally {
      child.kill('SIGKILL')
    }
  }, 90_000)
})
