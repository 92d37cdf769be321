/**
 * Issue 18 (enclave RSS): the enclave process the stack starts runs with the launchers' memory settings
 * (scripts/lib/enclaveLaunch.ts: a smaller V8 young generation, two malloc arenas), read from the running process
 * itself (what they save is measured in docs/bench.md, not here). deploy/nitro/entrypoint.sh is checked against the
 * same constants in test/kms/deployNitro.test.ts.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from '../../scripts/lib/enclaveLaunch.js'
import { type Stack, startStack } from '../../scripts/lib/startStack.js'

const procList = (pid: number, file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean)

describe.skipIf(process.platform !== 'linux')('enclave launch settings (startStack)', () => {
  let stack: Stack
  let bare: Stack
  beforeAll(async () => {
    ;[stack, bare] = await Promise.all([startStack(), startStack({ launchDefaults: false })])
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
    await bare?.stop()
  })

  it('the enclave runs with ENCLAVE_NODE_FLAGS before its bundle and ENCLAVE_ENV in its environment', () => {
    const argv = procList(stack.enclave.pid!, 'cmdline')
    const bundle = argv.findIndex((a) => a.endsWith('dist/enclave.sim.mjs'))
    expect(bundle).toBeGreaterThan(0)
    expect(ENCLAVE_NODE_FLAGS.length).toBeGreaterThan(0)
    for (const f of ENCLAVE_NODE_FLAGS) expect(argv.slice(1, bundle)).toContain(f)
    const environ = procList(stack.enclave.pid!, 'environ')
    for (const [k, v] of Object.entries(ENCLAVE_ENV)) expect(environ).toContain(`${k}=${v}`)
    // The host is not the enclave: it keeps node's defaults.
    expect(procList(stack.host.pid!, 'cmdline').some((a) => ENCLAVE_NODE_FLAGS.includes(a))).toBe(false)
  })

  it('launchDefaults: false (the benches\' "bare") starts the enclave without them', () => {
    const argv = procList(bare.enclave.pid!, 'cmdline')
    for (const f of ENCLAVE_NODE_FLAGS) expect(argv).not.toContain(f)
  })
})
