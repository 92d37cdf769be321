import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot, waitFor } from '../helpers/startStack.js'

type Info = { host: string; rpcUrl: string; paidUrl: string; premiumUrl: string; wallet: string; agentId: string; agentKeyFile: string; policyFile: string; payScript: string }

/**
 * `bursar devchain` as the README's quick start uses it: it keeps running, and the SDK snippet it writes (pay.mjs,
 * `import … from 'bursar/agent'` with plain node) pays on the first try; the owner CLI sees the pending request of a
 * larger call; Ctrl-C stops everything.
 */
const home = mkdtempSync(path.join(tmpdir(), 'bursar-devchain-home-'))
// pay.mjs imports the package by its own name: it must live inside the package (the repository) to resolve it.
mkdirSync(path.join(repoRoot, '.bursar'), { recursive: true })
const dir = mkdtempSync(path.join(repoRoot, '.bursar', 'devchain-test-'))
// The owner key is the CLI's default one under this HOME (devchain creates it), as for a newcomer.
const { BURSAR_OWNER_KEY: _ownerKey, ...inherited } = process.env
const env = { ...inherited, HOME: home, BURSAR_DATA_DIR: path.join(home, 'data'), BURSAR_HOST_URL: '' }
let child: ChildProcess | undefined

afterAll(() => {
  child?.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  rmSync(home, { recursive: true, force: true })
})

function start(): { proc: ChildProcess; info: Promise<Info>; stderr: string[] } {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), 'devchain', '--json', '--dir', dir, '--port', '0', '--chain-port', '0', '--api-port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stderr: string[] = []
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
  let out = ''
  const info = new Promise<Info>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      try {
        resolve(JSON.parse(out) as Info)
      } catch {
        // not complete yet
      }
    })
    proc.once('exit', (code) => reject(new Error(`devchain exited ${code}\n${stderr.join('')}`)))
  })
  return { proc, info, stderr }
}

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), ...args], { encoding: 'utf8', env, timeout: 60_000 })

describe('bursar devchain', () => {
  it('keeps a chain, a paid API and bursar running; its pay.mjs pays with plain node; a larger call waits for the owner; Ctrl-C stops all', async () => {
    const run = start()
    child = run.proc
    const info = await run.info
    expect(run.stderr.join('')).toContain('bursar devchain is running')
    expect(readFileSync(info.policyFile, 'utf8')).toContain(info.agentId)
    expect(readFileSync(info.payScript, 'utf8')).toContain("from 'bursar/agent'")

    // The README snippet, as written, with plain node (no tsx): pays the first time.
    const pay = spawnSync(process.execPath, [info.payScript], { encoding: 'utf8', env, timeout: 60_000 })
    expect(pay.status, pay.stderr).toBe(0)
    expect(pay.stdout).toMatch(/^200 /)

    // A call above the rule's 0.10 USDC goes to the owner: pending, visible to the owner CLI (its default key).
    const premium = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { createPayingFetch, loadAgentKey } from 'bursar/agent'
const pay = createPayingFetch({ agentKey: loadAgentKey(${JSON.stringify(info.agentKeyFile)}) })
try { await pay(${JSON.stringify(info.premiumUrl)}); console.log('paid?!') } catch (e) { console.log(e.code) }`],
      { encoding: 'utf8', env, cwd: dir, timeout: 60_000 },
    )
    expect(premium.stdout.trim(), premium.stderr).toBe('approval_pending')
    const pending = cli('owner', 'pending', 'list', '--host', info.host, '--json')
    expect(pending.status, pending.stderr).toBe(0)
    expect(pending.stdout).toContain(info.agentId)

    run.proc.kill('SIGINT')
    await waitFor(() => run.proc.exitCode !== null, 15_000, 'devchain exit')
    expect(run.proc.exitCode).toBe(0)
    const rpc = await fetch(info.rpcUrl, { method: 'POST', body: '{}' }).then(() => 'up', () => 'down')
    expect(rpc).toBe('down')
    const api = await fetch(info.paidUrl).then(() => 'up', () => 'down')
    expect(api).toBe('down')
  }, 180_000)
})
