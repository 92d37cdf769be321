import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { eip3009, eip3009TypedData, paymentPolicy, waitAgentFloor } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { repoRoot } from '../helpers/startStack.js'

const AMOUNT = 1_000n
const run = promisify(execFile)

/**
 * Attack (issue 15, sdk15; residual risk 1 in SECURITY.md): the host stops the pair, restores its store (SQLite files:
 * sealed state + audit log) from a copy taken a few payments earlier and restarts the enclave on it. The enclave cannot
 * tell (no monotonic counter); it forgets the later spends and its chain continues from the older head, so the next
 * receipt's audit seq and walletSeq are at or below ones the agent already holds. The SDK's high-water marks catch it:
 * `state_rollback_detected`, and the signature is not handed out — in this process (marks in memory) and in a new
 * agent process started afterwards (marks persisted to the file the agent names).
 */
describe('adversarial: the host restores an older store, so the next receipt goes backwards', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-rollback-'))
  const marksFile = path.join(dir, 'receipt-marks.json')
  const keyFile = path.join(dir, 'agent.key.json')
  afterAll(() => rmSync(dir, { recursive: true, force: true })) // after the stack's stop (afterAll runs in reverse)

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(() => writeFileSync(keyFile, JSON.stringify(s.agentKey)))

  const account = () => bursarAccount({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000, receiptMarksFile: marksFile })
  const pay = () => account().signTypedData(eip3009TypedData(eip3009({ wallet: s.wallet, value: AMOUNT })) as never)
  const restart = async (between?: () => void) => {
    await s.stack.stopHost()
    await s.stack.stopEnclave()
    between?.()
    await s.stack.startEnclave()
    await s.stack.startHost()
    await s.stack.waitReady()
    await waitAgentFloor()
  }

  it('honest restarts pass; after the restore the next payment is state_rollback_detected, here and in a new process', async () => {
    for (let i = 0; i < 2; i++) await pay()
    const copy = path.join(dir, 'older-store')
    await restart(() => cpSync(s.stack.dataDir, copy, { recursive: true }))
    // An honest restart on the same store: the chain continues above the marks.
    for (let i = 0; i < 4; i++) await pay()
    await restart(() => {
      rmSync(s.stack.dataDir, { recursive: true, force: true })
      cpSync(copy, s.stack.dataDir, { recursive: true })
    })
    let handedOut: string | undefined
    await expect(pay().then((sig) => (handedOut = sig))).rejects.toMatchObject({ code: 'state_rollback_detected', name: 'StateRollbackError' })
    expect(handedOut).toBeUndefined()

    // A new agent process, same marks file: the marks outlived the first one.
    const script = path.join(dir, 'pay.mts')
    writeFileSync(
      script,
      `import { bursarAccount } from ${JSON.stringify(path.join(repoRoot, 'agent/bursarAccount.ts'))}
import { eip3009, eip3009TypedData } from ${JSON.stringify(path.join(repoRoot, 'test/helpers/agentClient.ts'))}
const [keyFile, marksFile, wallet] = process.argv.slice(2)
const account = bursarAccount({ agentKey: keyFile, receiptMarksFile: marksFile, timeoutMs: 10_000 })
try {
  await account.signTypedData(eip3009TypedData(eip3009({ wallet, value: 1000n })))
  console.log('SIGNED')
} catch (err) {
  console.log('REFUSED', err.code)
}
`,
    )
    const { stdout } = await run(path.join(repoRoot, 'node_modules/.bin/tsx'), [script, keyFile, marksFile, s.wallet], { cwd: repoRoot, timeout: 60_000 })
    expect(stdout.trim()).toBe('REFUSED state_rollback_detected')
  }, 120_000)
})
