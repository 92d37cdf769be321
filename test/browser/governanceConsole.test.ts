import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * The governance view in a real browser against a real host + simulated enclave (issue 19's rules, enforced there):
 * a two-owner wallet, a loosening the other owner proposed (1 of 2 signed), co-signed in the console → scheduled
 * behind the delay, then cancelled in the console; the enclave's wallet view confirms each step.
 */
describe('governance view (real host + enclave, injected EIP-1193 wallet)', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  const other = privateKeyToAccount(generatePrivateKey())
  let otherClient: OwnerClient
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' }))
    await s.client.act('SetOwners', s.wallet, {
      owners: [s.owner.address, other.address],
      stopQuorum: '1',
      approveQuorum: '2',
      loosenQuorum: '2',
      agentsQuorum: '2',
      ownersQuorum: '2',
      delaySeconds: '3600',
    })
    otherClient = new OwnerClient(s.stack.url, other)
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('shows owners, thresholds and who signed; co-signs a loosening (scheduled) and cancels it', async () => {
    const p = parsePolicy({ ...paymentPolicy({ perTx: '5000', rolling24h: '100000', version: 2 }), wallet: s.wallet, agentId: s.agentKey.agentId })
    const proposed = await otherClient.act('SetPolicy', s.wallet, { agentId: s.agentKey.agentId, version: '2', policyHash: policyHash(p) }, JSON.stringify(p))
    const actHash = proposed.proposal!.actHash

    const { page } = b
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').click()
    const gov = page.locator(`[data-testid=wallet][data-wallet="${s.wallet}"] [data-testid=governance]`)
    await gov.waitFor({ timeout: 15_000 })
    // Open because something waits.
    expect(await gov.getAttribute('open')).not.toBeNull()
    const owners = (await gov.getByTestId('gov-owners').textContent())!.toLowerCase()
    expect(owners).toContain(s.owner.address.toLowerCase())
    expect(owners).toContain(other.address.toLowerCase())
    expect(owners).toContain('(you)')
    const thresholds = await gov.getByTestId('gov-thresholds').textContent()
    expect(thresholds).toContain('2 of 2')
    expect(thresholds).toContain('1 of 2')
    expect(thresholds).toContain('3600 s')
    const row = gov.locator(`[data-testid=gov-proposal][data-act-hash="${actHash}"]`)
    const text = (await row.textContent())!.toLowerCase()
    expect(text).toContain('setpolicy')
    expect(text).toContain('1 of 2')
    expect(text).toContain(other.address.toLowerCase().slice(0, 8))
    await b.shot('governance')

    // Co-sign in the wallet: the loosening is accepted but waits out the delay.
    await row.getByTestId('gov-cosign').click()
    await expect.poll(() => page.getByTestId('notice').textContent(), { timeout: 15_000 }).toContain('Co-sign SetPolicy: done')
    expect(b.signed.at(-1)).toMatchObject({ primaryType: 'SetPolicy', message: { policyHash: policyHash(p) } })
    const info = await s.client.wallet(s.wallet)
    expect(info.proposals).toEqual([])
    expect(info.scheduled.map((x) => x.actHash)).toEqual([actHash])
    expect(info.agents[0]!.policy!.version).toBe(1)
    const scheduled = gov.locator(`[data-testid=gov-scheduled-act][data-act-hash="${actHash}"]`)
    await scheduled.waitFor({ timeout: 15_000 })
    expect(await scheduled.textContent()).toContain('perTx')
    await b.shot('governance-scheduled')

    // Cancel (any one owner: a stop-class act).
    await scheduled.getByTestId('gov-cancel').click()
    await expect.poll(() => page.getByTestId('notice').textContent(), { timeout: 15_000 }).toContain('done')
    expect(b.signed.at(-1)).toMatchObject({ primaryType: 'CancelScheduled', message: { actHash } })
    const after = await s.client.wallet(s.wallet)
    expect(after.scheduled).toEqual([])
    expect(after.agents[0]!.policy!.version).toBe(1)
    await expect.poll(() => gov.locator('[data-testid=gov-scheduled-act]').count(), { timeout: 15_000 }).toBe(0)
  }, 120_000)
})
