import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'

/**
 * SIMULATION: starts governance's own process (dist/governance.sim.mjs, beside this bundle) listening on `listen`, with
 * this process's environment (the same data dir: the same sim sealer key, so it unseals the link key the signer seals).
 * It reads its stdin and exits when that closes, so it never outlives the enclave (even a SIGKILLed one); if it exits
 * on its own it is started again after a second.
 */
export function startGovernanceBeside(listen: string, log: (line: string) => void): void {
  const bundle = path.join(path.dirname(process.argv[1] ?? '.'), 'governance.sim.mjs')
  if (!existsSync(bundle)) {
    log(`governance bundle ${bundle} is missing: owner acts will answer governance_unavailable (build with npx tsx scripts/buildEnclave.ts)`)
    return
  }
  let child: ChildProcess | null = null
  let stopping = false
  const start = () => {
    child = spawn(process.execPath, [bundle], { env: { ...process.env, BURSAR_GOVERNANCE_LISTEN: listen }, stdio: ['pipe', 'inherit', 'inherit'] })
    child.on('exit', (code, sig) => {
      if (stopping) return
      log(`governance exited (${code ?? sig}); starting it again in 1 s`)
      setTimeout(start, 1_000).unref()
    })
  }
  start()
  process.on('exit', () => {
    stopping = true
    child?.kill('SIGTERM')
  })
}
