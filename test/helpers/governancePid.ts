import { readFileSync } from 'node:fs'
import type { Stack } from './startStack.js'

/** Governance's process: the simulated enclave's child (sim/startGovernanceBeside.ts); the enclave: a stack's or a pid. */
export function governancePid(enclave: Stack | number): number {
  const pid = typeof enclave === 'number' ? enclave : enclave.enclave.pid!
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number)
  const gov = children.filter((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('governance'))
  if (gov.length !== 1) throw new Error(`expected one governance process under the enclave ${pid}, found ${gov.join(', ') || 'none'} of ${children.join(', ')}`)
  return gov[0]!
}
