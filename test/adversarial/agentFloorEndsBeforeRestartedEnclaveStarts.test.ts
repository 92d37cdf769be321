import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { MERCHANT, eip3009, paymentPolicy, postSign, signedBody, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, lastListening, startStack } from '../helpers/startStack.js'

/**
 * rt33b (red team on suite15): waitAgentFloor waits from lastListening, which startStack dates when the enclave's
 * 'enclave listening' line is in the stack's logs. stack.stop() keeps the logs, so a restart after it (stop, then
 * startEnclave, startHost: how several tests restart a pair) found the OLD enclave's line, returned at once, and the
 * floor was counted from the host's start: an enclave slower to boot than its host (here 3 s, as a loaded machine
 * makes it) then refuses the test's first request (`request_before_enclave_start`) — a test that expects a refusal
 * could pass on that one. The wait must count from this enclave's own start.
 */
const BOOT_MS = 3_000

describe('agentFloorEndsBeforeRestartedEnclaveStarts: the agent floor after stop() + startEnclave() counts from the new enclave', () => {
  let stack: Stack | undefined
  afterAll(async () => {
    await stack?.stop()
  })

  it('startEnclave returns only once the new enclave listens, and a request after waitAgentFloor is decided', async () => {
    const slowBoot = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-slowboot-')), 'slowBoot.cjs')
    writeFileSync(slowBoot, `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${BOOT_MS})\n`)
    stack = await startStack({ enclaveNodeArgs: ['--require', slowBoot], agentFloor: 'production' })
    const owner = privateKeyToAccount(generatePrivateKey())
    const { wallet } = await new OwnerClient(stack.url, owner).createWallet('floor')
    const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy: paymentPolicy({ perTx: '5000', rolling24h: '100000' }) })

    await stack.stop()
    const restart = Date.now()
    await stack.startEnclave()
    // The new enclave has said it listens (its start is after its boot), and the floor counts from then.
    expect(stack.logs.join('').split('enclave listening').length - 1).toBe(2)
    expect(lastListening.at).toBeGreaterThanOrEqual(restart + BOOT_MS)
    await stack.startHost()
    await stack.waitReady(30_000)
    await waitAgentFloor()
    const r = await postSign(stack.url, signedBody({ agentKey, wallet, operation: eip3009({ wallet, value: 1000n, to: MERCHANT }) }))
    expect([r.status, r.json.code]).toEqual([200, undefined])
  }, 90_000)
})
