import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { policyHash } from '../../shared/schemas/policy.js'
import { MERCHANT, type StackWithAgent, paymentPolicy, stackWithAgent } from '../helpers/agentClient.js'
import { type ConsoleBrowser, openConsoleBrowser } from '../helpers/consoleBrowser.js'

/**
 * The policy form (console/src/views/policyFormView.ts) in a real browser against a real host + simulated enclave:
 * it is a view of the editor's YAML, so a round trip gives back the same text, a bad field gets the enclave
 * schema's precise error, and a cap edited in the form (in token units) is signed as a valid v2 the enclave installs.
 */
describe('policy form editor (real host + enclave, injected EIP-1193 wallet)', () => {
  let s: StackWithAgent
  let b: ConsoleBrowser
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: '100000', rolling24h: '10000' }))
    b = await openConsoleBrowser({ owner: s.owner })
  }, 180_000)
  afterAll(async () => {
    await b?.close()
    await s?.stack.stop()
  })

  it('edits a cap through the form (round-trips to the same YAML, same schema errors) and signs a valid v2', async () => {
    const { page } = b
    await page.goto(`${s.stack.url}/`)
    await page.getByTestId('connect').click()
    const agent = page.locator(`[data-testid=agent][data-agent="${s.agentKey.agentId}"]`)
    await agent.waitFor({ timeout: 15_000 })
    await agent.getByTestId('edit-policy').click()
    const editor = page.getByTestId('policy-editor')
    const original = await editor.getByTestId('policy-text').inputValue()
    expect(original).toMatch(/^version: 2$/m)

    await editor.getByTestId('policy-mode-form').click()
    const form = editor.getByTestId('policy-form')
    // Caps in the token's units (USDC, 6 decimals): 10,000 base units = 0.01.
    const rolling = form.getByTestId('form-budget-0-rolling24h')
    expect(await rolling.inputValue()).toBe('0.01')
    expect(await form.getByTestId('form-budget-0-perTx').inputValue()).toBe('0.1')
    expect(await form.getByTestId('form-budget-0-calendarDay').inputValue()).toBe('')
    expect(await form.getByTestId('form-rule-0-payees').inputValue()).toBe(MERCHANT)
    expect(await form.getByTestId('form-rule-0-validity').inputValue()).toBe('3600')

    // Round trip: a kind ticked and unticked again gives back exactly the text it started from.
    await form.getByTestId('form-rule-0-kind-erc20_transfer').check()
    await editor.getByTestId('policy-mode-yaml').click()
    expect(await editor.getByTestId('policy-text').inputValue()).toMatch(/kinds:\n\s+- eip3009\n\s+- erc20_transfer/)
    await editor.getByTestId('policy-mode-form').click()
    await form.getByTestId('form-rule-0-kind-erc20_transfer').uncheck()
    await editor.getByTestId('policy-mode-yaml').click()
    expect(await editor.getByTestId('policy-text').inputValue()).toBe(original)
    await editor.getByTestId('policy-mode-form').click()

    // A bad payee: the enclave schema's error, with its path; nothing can be signed.
    const payees = form.getByTestId('form-rule-0-payees')
    await payees.fill(`${MERCHANT}\n0xnope`)
    await payees.blur()
    const errors = editor.getByTestId('policy-errors')
    await errors.waitFor()
    expect(await errors.textContent()).toContain('rules.0.payTo.in.1: expected a 0x-prefixed 20-byte hex address')
    expect(await editor.getByTestId('policy-sign').isDisabled()).toBe(true)
    await payees.fill(MERCHANT)
    await payees.blur()
    await editor.getByTestId('policy-valid').waitFor()

    // An amount finer than the token allows is refused by the form, and the text is left as it was.
    const before = await formText()
    await rolling.fill('0.0000001')
    await rolling.blur()
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('has more than 6 decimals')
    expect(await formText()).toBe(before)

    // The edit: the rolling 24 h cap from 0.01 to 0.02 USDC, and a calendar-day cap of 0.015.
    await rolling.fill('0.02')
    await rolling.blur()
    await form.getByTestId('form-budget-0-calendarDay').fill('0.015')
    await form.getByTestId('form-budget-0-calendarDay').blur()
    await editor.getByTestId('policy-valid').waitFor()
    const diff = await editor.getByTestId('policy-diff').textContent()
    expect(diff).toContain('-     rolling24h: "10000"')
    expect(diff).toContain('+     rolling24h: "20000"')
    expect(diff).toContain('+     calendarDay: "15000"')
    await b.shot('policy-form')
    const text = await formText()
    expect(text).toContain('rolling24h: "20000"')

    await editor.getByTestId('policy-sign').click()
    await expect.poll(() => page.getByTestId('notice').textContent(), { timeout: 15_000 }).toContain('Policy v2: done')
    // What the wallet signed is the hash of exactly the YAML the form wrote, bound to this wallet and agent.
    const expected = { ...YAML.parse(text), wallet: s.wallet, agentId: s.agentKey.agentId }
    const act = b.signed.at(-1)!
    expect(act.primaryType).toBe('SetPolicy')
    expect(act.message.policyHash).toBe(policyHash(expected))
    const installed = (await s.client.wallet(s.wallet)).agents[0]!.policy!
    expect(installed.version).toBe(2)
    expect(installed.hash).toBe(policyHash(expected))
    expect(JSON.parse(installed.json).budgets[0]).toMatchObject({ perTx: '100000', rolling24h: '20000', calendarDay: '15000' })
  }, 120_000)

  /** The editor's YAML, read through its YAML tab (and back to the form). */
  async function formText(): Promise<string> {
    const editor = b.page.getByTestId('policy-editor')
    await editor.getByTestId('policy-mode-yaml').click()
    const t = await editor.getByTestId('policy-text').inputValue()
    await editor.getByTestId('policy-mode-form').click()
    return t
  }
})
