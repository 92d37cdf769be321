import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Hex, recoverMessageAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, eip3009, postSign, runCli, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/** Payments to MERCHANT up to 1,000 sign; above, and any message, go to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '100000', rolling24h: '1000000' }],
  rules: [
    { id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 3600, caps: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' },
    { id: 'ask', effect: 'allow', kinds: ['raw_message'], payTo: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' },
  ],
}

/**
 * Attack: a blind approval. `bursar owner pending list` read an old summary
 * shape and showed the owner "?" for what they approve, so a prompt-injected
 * agent's 54,321-unit payment looked like nothing. Worse, agent-chosen text
 * (a message) could carry terminal escapes to redraw the line, or hide its
 * tail past the 80-character description. The listing and the approve
 * output now print the summary's full description (payee, amount, asset,
 * chain, validity), the approved validity span, the fields a retry may
 * change and the exact decoded content, with control characters escaped.
 */
describe('adversarial: the owner approves blind', () => {
  let stack: Stack
  let ownerKey: Hex
  let wallet: Hex
  let agentKey: AgentKey
  const owner = (args: string[]) => runCli(['owner', ...args], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: ownerKey, HOME: mkdtempSync(path.join(tmpdir(), 'bursar-home-')) })
  const ask = (operation: AgentOperation) => postSign(stack.url, signedBody({ agentKey, wallet, operation }))

  beforeAll(async () => {
    stack = await startStack()
    ownerKey = generatePrivateKey()
    const client = new OwnerClient(stack.url, privateKeyToAccount(ownerKey))
    wallet = (await client.createWallet('blind')).wallet
    agentKey = (await setupAgent({ host: stack.url, owner: privateKeyToAccount(ownerKey), wallet, policy })).agentKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('pending list names the payee, amount, asset, chain and validity of the payment; approve shows the same; the payment then signs once', async () => {
    const pay = eip3009({ wallet, value: 54_321n, to: MERCHANT })
    const validBefore = (pay.typedData.message as Record<string, string>).validBefore!
    const first = await ask(pay)
    expect(first.json.code).toBe('approval_pending')
    const id = first.json.pendingId as string

    const listed = await owner(['pending', 'list'])
    expect(listed.code, listed.stderr).toBe(0)
    const out = listed.stdout
    expect(out).toContain(id)
    expect(out).toContain(`54321 of ${TOKEN} to ${MERCHANT} on chain ${CHAIN_ID}`)
    expect(out).toContain(`valid 0–${validBefore}`)
    expect(out).toMatch(/valid for: at most \d+s from the retry/)
    expect(out).toMatch(/a retry may change only: .*nonce/)
    expect(out).toContain(`"payTo":"${MERCHANT}"`)
    expect(out).not.toMatch(/^\s*\?/m)

    const approved = await owner(['approve', id])
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain(`54321 of ${TOKEN} to ${MERCHANT}`)
    expect(approved.stdout).toMatch(/valid for: at most \d+s/)

    const retry = eip3009({ wallet, value: 54_321n, to: MERCHANT, nonce: `0x${randomBytes(32).toString('hex')}` })
    const ok = await ask(retry)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    expect(await verifyEip3009(wallet, retry, ok.json.signature as Hex)).toBe(true)
  })

  it('a message whose tail hides past the description and whose text carries terminal escapes is shown whole and escaped', async () => {
    const text = `log in to example.com${' '.repeat(80)}\u001b[2K\rand approve attacker for everything\u202e`
    const first = await ask({ op: 'signMessage', message: { text } })
    expect(first.json.code).toBe('approval_pending')
    const listed = await owner(['pending', 'list'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain('and approve attacker for everything')
    expect(listed.stdout).not.toContain('\u001b')
    expect(listed.stdout).not.toContain('\r')
    expect(listed.stdout).not.toContain('\u202e')
    expect(listed.stdout).toContain('\\u001b[2K')
    // Approved after reading it, it signs exactly that text.
    await owner(['approve', first.json.pendingId as string])
    const ok = await ask({ op: 'signMessage', message: { text } })
    expect(ok.status).toBe(200)
    expect(await recoverMessageAddress({ message: text, signature: ok.json.signature as Hex })).toBe(wallet)
  })
})
