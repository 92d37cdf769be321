import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { withFreePort } from '../../scripts/lib/freePort.js'
import { type Stack, startStack } from '../helpers/startStack.js'

describe('loopback TCP transport between host and enclave', () => {
  let stack: Stack
  beforeAll(async () => {
    // The enclave is told its port: another file may take it between the pick and the bind (retried on EADDRINUSE).
    stack = await withFreePort((port) => startStack({ env: { BURSAR_ENCLAVE_LISTEN: `tcp:127.0.0.1:${port}`, BURSAR_ENCLAVE: `tcp:127.0.0.1:${port}` } }))
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('serves the same protocol over 127.0.0.1', async () => {
    const owner = privateKeyToAccount(`0x${'42'.repeat(32)}`)
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('tcp')
    expect(wallet).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(stack.logs.join('')).toContain('enclave listening on 127.0.0.1:')
    expect(stack.logs.join('')).toContain('keccak hash-wasm)') // cpu37: the WebAssembly Keccak loaded in the bundle, not the noble fallback
  })

  it('the enclave refuses to listen on a non-loopback address', async () => {
    const { spawnSync } = await import('node:child_process')
    const { repoRoot } = await import('../helpers/startStack.js')
    const r = spawnSync(process.execPath, [`${repoRoot}/dist/enclave.sim.mjs`], {
      env: { ...process.env, BURSAR_DATA_DIR: stack.dataDir, BURSAR_ENCLAVE_LISTEN: 'tcp:0.0.0.0:9' },
      encoding: 'utf8',
      timeout: 10_000,
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/tcp:127\.0\.0\.1:PORT/)
  })
})
