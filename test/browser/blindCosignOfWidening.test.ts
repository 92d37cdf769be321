import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { MERCHANT, type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * Attack (a co-owner's stolen key, m-of-n governance): the thief proposes a SetPolicy that raises the per-payment
 * cap and adds their own payee, then waits for the honest owner's co-signature. The governance view listed the
 * proposal as "SetPolicy 0x1234…, loosen, 1 of 2" with a Co-sign button and nothing else, and the wallet prompt
 * shows only `policyHash`: the second signature, the whole point of the quorum, was given blind.
 *
 * Fix: the row shows the act's fields and the changed lines of the proposed policy against the installed one,
 * bound to the listed act hash (content that does not hash to it is flagged and Co-sign disabled).
 */
describe('co-signing a widening in the console without seeing it (real host + enclave, injected wallet)', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  const thief = privateKeyToAccount(generatePrivateKey())
  const payee = privateKeyToAccount(generatePrivateKey()).address
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
    await s.client.act('SetOwners', s.wallet, {
      owners: [s.owner.address, thief.address],
      stopQuorum: '1',
      approveQuorum: '2',
      loosenQuorum: '2',
      agentsQuorum: '2',
      ownersQuorum: '2',
      delaySeconds: '0',
    })
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('shows the raised cap and the added payee before the Co-sign button is pressed', async () => {
    const base = paymentPolicy({ perTx: '987654', rolling24h: '100000', version: 2 })
    base.rules[0]!.payTo = { in: [MERCHANT, payee] }
    const p = parsePolicy({ ...base, wallet: s.wallet, agentId: s.agentKey.agentId })
    const proposed = await new OwnerClient(s.stack.url, thief).act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: '2', policyHash: policyHash(p) }, JSON.stringify(p))
    const actHash = proposed.proposal!.actHash

    const { page } = b
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').click()
    const gov = page.locator(`[data-testid=wallet][data-wallet="${s.wallet}"] [data-testid=governance]`)
    await gov.locator(`[data-testid=gov-proposal][data-act-hash="${actHash}"]`).waitFor({ timeout: 15_000 })
    const detail = gov.locator(`[data-testid=gov-proposal-detail][data-act-hash="${actHash}"]`)
    await detail.waitFor({ timeout: 5_000 })
    const diff = gov.locator(`[data-testid=gov-proposal-detail][data-act-hash="${actHash}"] [data-testid=gov-proposal-diff]`)
    const added = await diff.locator('.add').allTextContents()
    const removed = await diff.locator('.del').allTextContents()
    expect(added.join('\n')).toContain('987654')
    expect(removed.join('\n')).toContain('1000')
    expect(added.join('\n').toLowerCase()).toContain(payee.toLowerCase())
    expect(await detail.textContent()).toContain(`agentId: ${s.agentKey.agentId.slice(0, 20)}`)
    await b.shot('governance-proposal-diff')
    // Nothing was signed by looking.
    expect(b.signed.filter((x) => x.primaryType === 'SetPolicy')).toEqual([])
  }, 120_000)
})
