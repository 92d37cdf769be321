import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { parsePolicy } from '../../shared/schemas/policy.js'
import type { Policy } from '../../shared/schemas/policy.js'
import type { SpendLedger } from '../../core/ledger/SpendLedger.js'
import type { EvaluatePolicyParameters, PolicyVerdict } from '../../core/policy/evalTypes.js'
import { evaluatePolicy } from '../../core/policy/evaluatePolicy.js'

/** Test doubles: a small valid policy, payment actions, and "evaluate then apply" as the enclave does it. */
export const MOCK_AGENT = 'agt_0123456789abcdef0123456789abcdef01234567'
export const MOCK_WALLET = '0x1111111111111111111111111111111111111111'
export const MOCK_USDC = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
export const MOCK_PAYTO = '0x2222222222222222222222222222222222222222'
export const MOCK_CHAIN = 84532

/** A policy allowing eip3009 USDC payments with the given budget, plus overrides (parsed, so it is valid). */
export function mockPolicy(overrides: Partial<Policy> = {}): Policy {
  return parsePolicy({
    version: 1,
    wallet: MOCK_WALLET,
    agentId: MOCK_AGENT,
    timeZone: 'UTC',
    tokens: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000', rolling24h: '5000', calendarDay: '4000' }],
    rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009', 'erc20_transfer'] }],
    ...overrides,
  })
}

/** An EIP-3009 USDC payment valid for 5 minutes from `now`. */
export function mockPayment(amount: string | bigint, now: number, over: Partial<Extract<DecodedAction, { kind: 'eip3009' }>> = {}): DecodedAction {
  const s = Math.floor(now / 1000)
  return {
    kind: 'eip3009',
    primaryType: 'TransferWithAuthorization',
    chainId: MOCK_CHAIN,
    asset: MOCK_USDC,
    amount: amount.toString(),
    payTo: MOCK_PAYTO,
    from: MOCK_WALLET,
    validAfter: s - 10,
    validBefore: s + 300,
    nonce: `0x${'ab'.repeat(32)}`,
    ...over,
  }
}

/** Evaluates and applies the verdict's events (the enclave's decide + record step). */
export function mockDecide(ledger: SpendLedger, p: Omit<EvaluatePolicyParameters, 'ledger' | 'agentId'> & { agentId?: string }): PolicyVerdict {
  const v = evaluatePolicy({ agentId: MOCK_AGENT, ...p, ledger })
  for (const e of v.events) ledger.apply(e)
  return v
}

/** Fee fields of a transaction action with a zero fee (tests of what a transaction moves besides its fee). */
export const MOCK_TX = { nonce: 0, gas: '0', maxFeePerGas: '0', maxPriorityFeePerGas: '0' } as const
