import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { auditEntries, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack, waitFor } from '../helpers/startStack.js'

const AMOUNT = 1_000n
const HOST_TIMEOUT_MS = 3_000
// The host waits for a sign request until its deadline + 5 s (at least its own timeout): ~6 s here.
const STALL_MS = 7_500

/**
 * Attack (or a stalled machine: SIGSTOP, a VM pause, a long GC): the enclave stops for longer than the host waits
 * for a sign request. The host gives up (`enclave_timeout`); when the enclave resumes it still decides the request
 * (here: `request_expired`, audited) and sends the answer with its persist block — the audit entry. A host that drops
 * a late answer leaves a hole in its copy of the log, and the enclave's next restart refuses to load
 * (`audit_resume_gap`, finding F1) without any crash. The late persist block must be stored: the entry is in the
 * audit, the owner sees the stored answer, and the enclave restarts.
 */
describe('adversarial: the enclave answers after the host stopped waiting', () => {
  let stack: Stack
  let owner: LocalAccount
  let wallet: Hex
  let agentKey: AgentKey

  beforeAll(async () => {
    stack = await startStack({ env: { BURSAR_ENCLAVE_TIMEOUT_MS: String(HOST_TIMEOUT_MS) } })
    owner = privateKeyToAccount(generatePrivateKey())
    wallet = (await new OwnerClient(stack.url, owner).createWallet('late')).wallet
    agentKey = (await setupAgent({ host: stack.url, owner, wallet, policy: paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }) })).agentKey
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    if (stack?.enclave.pid) process.kill(stack.enclave.pid, 'SIGCONT')
    await stack?.stop()
  })

  it('a late answer is stored: its entry is in the audit, the owner sees the answer, the enclave restarts', async () => {
    const pid = stack.enclave.pid!
    // A 1 s deadline: the host waits deadline + 5 s = ~6 s. The enclave stays stopped until the host has answered
    // (suite39: it was resumed by a 7.5 s timer, 1.5 s after the host's ~6 s; on a loaded machine the host's answer
    // could come after the resume, and the test then slept another 7.5 s).
    const issuedAt = Date.now()
    const late = signedBody({ agentKey, wallet, operation: eip3009({ wallet, value: AMOUNT }), extra: { issuedAt, expiresAt: issuedAt + 1_000 } })
    const parsed = JSON.parse(late.request) as { nonce: string }
    process.kill(pid, 'SIGSTOP')
    try {
      const t0 = Date.now()
      const answer = await postSign(stack.url, late)
      expect([answer.status, answer.json.code]).toEqual([503, 'enclave_timeout'])
      // The host gave up on its own (the enclave was stopped the whole time), not after an unbounded wait.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(HOST_TIMEOUT_MS - 100)
      expect(Date.now() - t0).toBeLessThan(STALL_MS * 4)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    // Honest traffic after the resume.
    const op = eip3009({ wallet, value: AMOUNT })
    const ok = await postSign(stack.url, signedBody({ agentKey, wallet, operation: op }))
    expect(ok.status).toBe(200)
    expect(await verifyEip3009(wallet, op, ok.json.signature as Hex)).toBe(true)

    // The late decision is in the host's copy of the log, and its answer is stored for the owner's view.
    // (Polled: the late answer reaches the host before the honest one on the same connection, but is stored on its own.)
    const lateEntries = async () => (await auditEntries(stack.url, owner, { agent: agentKey.agentId })).filter((e) => e.requestId === parsed.nonce)
    await waitFor(async () => (await lateEntries()).length > 0, 30_000, 'the late entry in the host\'s audit log')
    let entries = await lateEntries()
    expect(entries.map((e) => [e.event, e.code])).toEqual([['sign_denied', 'request_expired']])
    const view = (await (
      await fetch(`${stack.url}/v1/audit/entries?request=${parsed.nonce}`, { headers: { authorization: `Bearer ${stack.auditToken}` } })
    ).json()) as { answers: { code: string | null; signed: boolean }[] }
    expect(view.answers.map((a) => [a.code, a.signed])).toEqual([['request_expired', false]])
    // A resend of the same bytes gets the stored refusal (not enclave_timeout, not request_replayed).
    const resend = await postSign(stack.url, late)
    expect([resend.status, resend.json.code]).toEqual([409, 'request_expired'])

    // The enclave restarts on the host's log: no hole, it loads and signs.
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.waitReady(30_000)
    await waitAgentFloor()
    const op2 = eip3009({ wallet, value: AMOUNT })
    const after = await postSign(stack.url, signedBody({ agentKey, wallet, operation: op2 }))
    expect([after.status, after.json.code]).toEqual([200, undefined])
    expect(await verifyEip3009(wallet, op2, after.json.signature as Hex)).toBe(true)
    entries = await auditEntries(stack.url, owner, { agent: agentKey.agentId })
    expect(entries.filter((e) => e.event === 'sign_allowed')).toHaveLength(2)
  }, 120_000)
})
