import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { runPolicyExplain } from './policyExplain.js'

const dir = mkdtempSync(join(tmpdir(), 'bursar-policy-explain-'))
const EXAMPLE = new URL('../../examples/policy.example.yaml', import.meta.url).pathname
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const file = (name: string, v: unknown) => {
  const p = join(dir, name)
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v))
  return p
}
// Tuesday 2026-11-24 10:00 Berlin (09:00Z): inside the example's office hours.
const NOW = '2026-11-24T09:00:00Z'
const s = Date.parse(NOW) / 1000
const payment = (amount: string, url = 'https://api.example-data.com/v1/quote') => ({
  action: {
    kind: 'eip3009',
    primaryType: 'TransferWithAuthorization',
    chainId: 84532,
    asset: USDC,
    amount,
    payTo: '0x4444444444444444444444444444444444444444',
    from: '0x1111111111111111111111111111111111111111',
    validAfter: s - 5,
    validBefore: s + 300,
    nonce: `0x${'01'.repeat(32)}`,
  },
  context: { resourceUrl: url },
})

describe('bursar owner policy explain', () => {
  it('allows a small x402 payment under the example policy', () => {
    const r = runPolicyExplain({ policy: EXAMPLE, request: file('ok.json', payment('500000')), now: NOW })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^ALLOW {2}by rules\.x402-data-apis/)
    expect(r.stdout).toContain('request, spend')
  })

  it('explains a pending request (rule cap exceeded, onViolation: pending) as JSON', () => {
    const r = runPolicyExplain({ policy: EXAMPLE, request: file('big.json', payment('1000001')), now: NOW, json: true })
    expect(r.exitCode).toBe(1)
    const j = JSON.parse(r.stdout)
    expect(j.verdict).toMatchObject({ verdict: 'pending', code: 'approval_pending', rule: 'rules.x402-data-apis' })
    expect(j.trace.rules.find((x: { rule: string }) => x.rule === 'x402-data-apis').checks.at(-1)).toMatchObject({ ok: false, code: 'policy_per_tx_cap_exceeded' })
  })

  it('replays a ledger (event list) so budgets count earlier spends', () => {
    const spend = { type: 'spend', agentId: 'agt_0123456789abcdef0123456789abcdef01234567', chainId: 84532, asset: USDC.toLowerCase(), amount: '40000000', payTo: null, role: 'authorization', host: null, at: Date.parse(NOW) - 60_000, validBefore: null }
    const r = runPolicyExplain({ policy: EXAMPLE, request: file('p.json', payment('1')), ledger: file('l.json', [spend]), now: NOW })
    expect(r.exitCode).toBe(1)
    // The rule passes but the calendar-day budget is spent; the rule says ask the owner.
    expect(r.stdout).toMatch(/^PENDING {2}pnd_[0-9a-f]{32} {2}\(budget\.calendarDay\)/)
    expect(r.stdout).toContain('used 40000000 (holds included) + 1 > 40000000')
    // Without the ledger the same request is allowed.
    expect(runPolicyExplain({ policy: EXAMPLE, request: file('p.json', payment('1')), now: NOW }).exitCode).toBe(0)
  })

  it('checks the wallet-wide caps of a wallet policy against every agent in the ledger', () => {
    const WALLET_EXAMPLE = new URL('../../examples/walletPolicy.example.yaml', import.meta.url).pathname
    // Another agent of the same wallet spent 79.5 USDC today; this agent spent nothing.
    const other = { type: 'spend', agentId: `agt_${'9'.repeat(40)}`, chainId: 84532, asset: USDC.toLowerCase(), amount: '79500000', payTo: null, role: 'authorization', host: null, at: Date.parse(NOW) - 60_000, validBefore: null }
    const ledger = file('wl.json', [other])
    const ok = runPolicyExplain({ policy: EXAMPLE, walletPolicy: WALLET_EXAMPLE, request: file('w1.json', payment('500000')), ledger, now: NOW })
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toContain('✓ wallet.calendarDay')
    expect(ok.stdout).toContain('all agents used 79500000 (holds included) + 500000 ≤ 80000000')
    const over = runPolicyExplain({ policy: EXAMPLE, walletPolicy: WALLET_EXAMPLE, request: file('w2.json', payment('500001')), ledger, now: NOW, json: true })
    expect(over.exitCode).toBe(1)
    const j = JSON.parse(over.stdout)
    // The rule routes violations to the owner: the wallet cap makes it a pending request, naming the wallet cap.
    expect(j.verdict).toMatchObject({ verdict: 'pending', rule: 'wallet.calendarDay' })
    expect(j.trace.stages.find((c: { name: string }) => c.name === 'wallet.calendarDay')).toMatchObject({ ok: false, code: 'policy_wallet_calendar_day_cap_exceeded', remaining: '500000' })
    // Without the wallet policy the same request is allowed by the agent's own budgets.
    expect(runPolicyExplain({ policy: EXAMPLE, request: file('w3.json', payment('500001')), ledger, now: NOW }).exitCode).toBe(0)
  })

  it('explains x402 upto: the signed maximum against the caps, and the facilitator allowlist', () => {
    const facilitator = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
    const policy = file('upto.json', {
      version: 1,
      wallet: '0x1111111111111111111111111111111111111111',
      agentId: 'agt_0123456789abcdef0123456789abcdef01234567',
      timeZone: 'UTC',
      tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
      facilitators: [facilitator],
      budgets: [{ chainId: 84532, asset: USDC, perTx: '20000' }],
      rules: [{ id: 'upto', effect: 'allow', kinds: ['upto'], maxValiditySeconds: 600 }],
    })
    const upto = (amount: string, by: string) => ({
      kind: 'upto',
      chainId: 84532,
      asset: USDC,
      amount,
      payTo: '0x4444444444444444444444444444444444444444',
      facilitator: by,
      nonce: '1',
      deadline: String(s + 300),
      validAfter: '0',
    })
    const ok = runPolicyExplain({ policy, request: file('u1.json', upto('20000', facilitator)), now: NOW })
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toContain(`✓ facilitators`)
    const other = runPolicyExplain({ policy, request: file('u2.json', upto('5', '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65')), now: NOW })
    expect(other.exitCode).toBe(1)
    expect(other.stdout).toMatch(/^DENY {3}policy_facilitator_not_allowed {2}\(facilitators\)/)
    expect(other.stdout).toContain('is not on the facilitator allowlist: add it under facilitators:  [policy_facilitator_not_allowed]')
    const max = runPolicyExplain({ policy, request: file('u3.json', upto('20001', facilitator)), now: NOW })
    expect(max.stdout).toMatch(/^DENY {3}policy_per_tx_cap_exceeded/)
  })

  it('reports invalid input with exit 2 and a precise path', () => {
    const bad = runPolicyExplain({ policy: file('bad.yaml', 'version: 0\n'), request: file('x.json', payment('1')), now: NOW })
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('version:')
    const badReq = runPolicyExplain({ policy: EXAMPLE, request: file('y.json', { kind: 'eip3009' }), now: NOW })
    expect(badReq.exitCode).toBe(2)
    expect(runPolicyExplain({ policy: EXAMPLE, request: file('z.json', payment('1')), now: 'yesterday' }).exitCode).toBe(2)
  })

  it('runs as a real process (commander parsing, exit code, stdout)', async () => {
    const req = file('proc.json', payment('1', 'https://elsewhere.example/'))
    const script = `import { policyExplainCommand } from ${JSON.stringify(new URL('./policyExplain.ts', import.meta.url).pathname)}
await policyExplainCommand().parseAsync(process.argv.slice(1), { from: 'user' })`
    const args = ['--import', 'tsx', '--input-type=module', '-e', script, '--', '--policy', EXAMPLE, '--request', req, '--now', NOW]
    const r = await promisify(execFile)(process.execPath, args).catch((e: { code: number; stdout: string }) => e)
    expect('code' in r ? r.code : 0).toBe(1)
    // Host not allowlisted under a rule with onViolation: pending → the owner is asked.
    expect(r.stdout).toMatch(/^PENDING {2}pnd_[0-9a-f]{32} {2}\(rules\.x402-data-apis\)/)
    expect(r.stdout).toContain('resource host elsewhere.example fails in list  [policy_host_not_allowed]')
  }, 30_000)
  it('batch-settlement: a voucher counts from the channel’s highest signed total in the ledger; a lower one is explained', () => {
    const AGENT = 'agt_0123456789abcdef0123456789abcdef01234567'
    const ESCROW = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003'
    const MERCHANT = '0x4444444444444444444444444444444444444444'
    const CH = `0x${'c1'.repeat(32)}`
    const policy = file('batch-policy.json', {
      version: 1, wallet: '0x1111111111111111111111111111111111111111', agentId: AGENT, timeZone: 'UTC',
      tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
      escrows: [ESCROW],
      lockedFunds: [{ chainId: 84532, asset: USDC, perChannel: '5000' }],
      budgets: [{ chainId: 84532, asset: USDC, perTx: '1000' }],
      rules: [{ id: 'batch', effect: 'allow', kinds: ['batch_voucher', 'batch_deposit'], payTo: { in: [MERCHANT] } }],
    })
    const voucher = (total: string) => file(`v${total}.json`, { kind: 'batch_voucher', chainId: 84532, asset: USDC, channelId: CH, receiver: MERCHANT, escrow: ESCROW, total, signedBefore: '0' })
    const ledger = file('ch.json', [{ type: 'channel', agentId: AGENT, channelId: CH, chainId: 84532, asset: USDC.toLowerCase(), locked: '4000', signed: '2500', at: Date.parse(NOW) - 1000 }])
    // 2,500 already signed: a running total of 3,400 adds 900 (within the 1,000 per-tx cap); 3,600 adds 1,100.
    expect(runPolicyExplain({ policy, request: voucher('3400'), ledger, now: NOW })).toMatchObject({ exitCode: 0 })
    expect(runPolicyExplain({ policy, request: voucher('3600'), ledger, now: NOW }).stdout).toContain('amount 1100 > per-transaction cap 1000')
    const lower = runPolicyExplain({ policy, request: voucher('2000'), ledger, now: NOW })
    expect(lower.exitCode).toBe(1)
    expect(lower.stdout).toContain('voucher total 2000 < highest signed 2500')
    // 1,500 still locked in the channel (4,000 deposited, 2,500 promised): a 3,501 deposit would make 5,001 > 5,000.
    const deposit = file('d.json', { kind: 'batch_deposit', chainId: 84532, asset: USDC, amount: '3501', channelId: CH, receiver: MERCHANT, escrow: ESCROW, validAfter: 0, validBefore: s + 300, nonce: `0x${'ab'.repeat(32)}` })
    expect(runPolicyExplain({ policy, request: deposit, ledger, now: NOW }).stdout).toContain('locked perChannel: 1500 + 3501 > 5000')
  })
})
