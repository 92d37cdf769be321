import { execSync } from 'node:child_process'
import os from 'node:os'
import { repoRoot } from '../lib/startStack.js'

export type MachineDescription = {
  cpuModel: string
  cores: number
  ramMb: number
  node: string
  platform: string
  kernel: string
  gitSha: string
}

/** What the bench ran on: CPU model, logical cores, RAM, Node version, kernel, and the checkout's short git sha. */
export function describeMachine(): MachineDescription {
  const cpus = os.cpus()
  let gitSha = 'nogit'
  try {
    gitSha = execSync('git rev-parse --short HEAD', { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
    if (dirty.length > 0) gitSha += '-dirty'
  } catch {}
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    ramMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    gitSha,
  }
}
