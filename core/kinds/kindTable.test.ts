import { describe, expect, it } from 'vitest'
import { ACTION_KINDS, type ActionKind, type ActionOf, DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import { approvalRequest } from '../policy/approvalRequest.js'
import { KINDS, describeAction, factsOf } from './kindTable.js'

const W = '0x1111111111111111111111111111111111111111'
const T = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const P = '0x2222222222222222222222222222222222222222'
const S = '0x3333333333333333333333333333333333333333'
const B = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003'
const t = (s: string) => s.toLowerCase()
const TX = { chainId: 84532, nonce: 7, gas: '21000', maxFeePerGas: '3', maxPriorityFeePerGas: '1' } as const
const FEE = { chainId: 84532, asset: 'native', amount: 63_000n, to: null, role: 'fee' }
const NOW = 1_800_000_000_000

/** One example of every kind, with what it must say it moves, until when, and which fields an approval leaves free. */
const CASES: { [K in ActionKind]: { action: ActionOf<K>; spends: unknown[]; validUntil: number | null; free: string[] } } = {
  eip3009: {
    action: { kind: 'eip3009', primaryType: 'TransferWithAuthorization', chainId: 84532, asset: T, amount: '5', payTo: P, from: W, validAfter: 0, validBefore: 1_800_000_600, nonce: `0x${'ab'.repeat(32)}` },
    spends: [{ chainId: 84532, asset: t(T), amount: 5n, to: t(P), role: 'authorization' }],
    validUntil: 1_800_000_600,
    free: ['nonce', 'validAfter', 'validBefore'],
  },
  erc2612_permit: {
    action: { kind: 'erc2612_permit', chainId: 84532, asset: T, owner: W, spender: S, amount: '9', nonce: '0', deadline: '1800000600' },
    spends: [{ chainId: 84532, asset: t(T), amount: 9n, to: t(S), role: 'allowance' }],
    validUntil: null,
    free: [],
  },
  permit2_transfer: {
    action: { kind: 'permit2_transfer', primaryType: 'PermitWitnessTransferFrom', chainId: 84532, asset: T, amount: '4', spender: '0x402085c248EeA27D92E8b30b2C58ed07f9E20001', payTo: P, nonce: '1', deadline: '1800000300', witness: { type: 'Witness', struct: 'Witness(address to,uint256 validAfter)', fields: { to: P, validAfter: '0' } } },
    spends: [{ chainId: 84532, asset: t(T), amount: 4n, to: t(P), role: 'authorization' }],
    validUntil: 1_800_000_300,
    free: ['nonce', 'deadline'],
  },
  upto: {
    action: { kind: 'upto', chainId: 84532, asset: T, amount: '7', payTo: P, facilitator: S, nonce: '2', deadline: '1800000300', validAfter: '0' },
    spends: [{ chainId: 84532, asset: t(T), amount: 7n, to: t(P), role: 'authorization' }],
    validUntil: 1_800_000_300,
    free: ['nonce', 'deadline', 'validAfter'],
  },
  batch_deposit: {
    action: { kind: 'batch_deposit', chainId: 84532, asset: T, amount: '50', channelId: `0x${'cd'.repeat(32)}`, receiver: P, escrow: B, validAfter: 0, validBefore: 1_800_000_600, nonce: `0x${'ef'.repeat(32)}` },
    // A deposit pays no one: it is limited by the locked-funds budget, not counted as a spend.
    spends: [],
    validUntil: 1_800_000_600,
    free: ['nonce', 'validAfter', 'validBefore'],
  },
  batch_voucher: {
    action: { kind: 'batch_voucher', chainId: 84532, asset: T, channelId: `0x${'cd'.repeat(32)}`, receiver: P, escrow: B, total: '10', signedBefore: '3' },
    // Only the increase over the highest total already signed for the channel counts.
    spends: [{ chainId: 84532, asset: t(T), amount: 7n, to: t(P), role: 'authorization' }],
    validUntil: null,
    free: ['signedBefore'],
  },
  auth_capture: {
    action: { kind: 'auth_capture', chainId: 84532, asset: T, amount: '40', receiver: P, operator: S, feeReceiver: S, minFeeBps: 10, maxFeeBps: 100, escrow: B, validAfter: 0, validBefore: 1_800_000_300, captureDeadline: 1_800_003_600, refundDeadline: 1_800_086_400, salt: `0x${'5a'.repeat(32)}`, nonce: `0x${'ef'.repeat(32)}` },
    // The authorized amount counts when signed (capture may take less; void/refund give back only by owner credit).
    spends: [{ chainId: 84532, asset: t(T), amount: 40n, to: t(P), role: 'authorization' }],
    validUntil: 1_800_000_300,
    free: ['nonce', 'salt', 'validAfter', 'validBefore'],
  },
  permit2_allowance: {
    action: { kind: 'permit2_allowance', chainId: 84532, asset: T, amount: '8', spender: S, expiration: 1_800_003_600, nonce: 0, sigDeadline: '1800000300' },
    spends: [{ chainId: 84532, asset: t(T), amount: 8n, to: t(S), role: 'allowance' }],
    validUntil: 1_800_003_600,
    free: [],
  },
  erc20_transfer: {
    action: { kind: 'erc20_transfer', ...TX, asset: T, amount: '3', payTo: P, from: W, method: 'transfer' },
    spends: [{ chainId: 84532, asset: t(T), amount: 3n, to: t(P), role: 'transfer' }, FEE],
    validUntil: null,
    free: ['nonce'],
  },
  erc20_approve: {
    action: { kind: 'erc20_approve', ...TX, asset: T, amount: '2', spender: S, method: 'increaseAllowance' },
    spends: [{ chainId: 84532, asset: t(T), amount: 2n, to: t(S), role: 'allowance' }, FEE],
    validUntil: null,
    free: ['nonce'],
  },
  permit2_approve: {
    action: { kind: 'permit2_approve', ...TX, asset: T, amount: '6', spender: S, expiration: 1_800_003_600 },
    spends: [{ chainId: 84532, asset: t(T), amount: 6n, to: t(S), role: 'allowance' }, FEE],
    validUntil: null,
    free: ['nonce'],
  },
  native_transfer: {
    action: { kind: 'native_transfer', ...TX, amount: '10', payTo: P },
    spends: [{ chainId: 84532, asset: 'native', amount: 10n, to: t(P), role: 'value' }, FEE],
    validUntil: null,
    free: ['nonce'],
  },
  contract_call: {
    action: { kind: 'contract_call', ...TX, to: S, value: '0', selector: '0x12345678', data: '0x12345678' },
    spends: [{ chainId: 84532, asset: 'native', amount: 0n, to: t(S), role: 'value' }, FEE],
    validUntil: null,
    free: ['nonce'],
  },
  typed_data: {
    action: { kind: 'typed_data', chainId: 1, verifyingContract: null, domainName: 'Login', domainVersion: '1', primaryType: 'Login', typedData: { domain: { name: 'Login', version: '1', chainId: 1 }, types: { Login: [{ name: 'who', type: 'string' }] }, primaryType: 'Login', message: { who: 'me' } } },
    spends: [],
    validUntil: null,
    free: [],
  },
  raw_message: {
    action: { kind: 'raw_message', length: 2, message: { text: 'hi' } },
    spends: [],
    validUntil: null,
    free: [],
  },
}

describe('the table of action kinds', () => {
  it('has one module per kind, for every kind', () => {
    expect(Object.keys(KINDS).sort()).toEqual([...ACTION_KINDS].sort())
  })

  it.each(ACTION_KINDS)('%s: spends (fees included), validity, approval-free fields, audit line', (kind) => {
    const c = CASES[kind]
    expect(DecodedActionSchema.parse(c.action)).toEqual(c.action)
    const facts = factsOf(c.action)
    expect(facts.spends).toEqual(c.spends)
    expect(facts.validUntil).toBe(c.validUntil)
    expect([...KINDS[kind].approvalFree]).toEqual(c.free)
    expect(describeAction(c.action).length).toBeGreaterThan(5)
  })

  it.each(ACTION_KINDS)('%s: an approval binds every non-free field (changing any one changes the key)', (kind) => {
    const c = CASES[kind]
    const key = (a: unknown) => approvalRequest({ agentId: 'agt_x', host: null, action: a as never, facts: factsOf(c.action), now: NOW }).key
    const base = key(c.action)
    for (const [field, value] of Object.entries(c.action)) {
      if (field === 'kind') continue
      const changed = { ...c.action, [field]: mutate(value) }
      if (c.free.includes(field)) expect(key(changed), `${kind}.${field} is free`).toBe(base)
      else expect(key(changed), `${kind}.${field} is bound`).not.toBe(base)
    }
  })

  it('a batch voucher that does not raise its channel’s highest signed total counts nothing', () => {
    for (const total of ['3', '2', '0']) expect(factsOf({ ...CASES.batch_voucher.action, total }).spends[0]?.amount).toBe(0n)
  })

  it('every allowance-like method counts its allowance when signed', () => {
    for (const k of ['erc2612_permit', 'permit2_allowance', 'erc20_approve', 'permit2_approve'] as const) {
      expect(factsOf(CASES[k].action).spends.some((s) => s.role === 'allowance' && s.amount > 0n), k).toBe(true)
    }
    // decreaseAllowance only lowers an allowance: the decoder records its amount (an approval binds it), it counts 0,
    // and the fee still counts.
    const dec = { ...CASES.erc20_approve.action, amount: '7', method: 'decreaseAllowance' as const }
    expect(factsOf(dec).spends.map((s) => s.amount)).toEqual([0n, 63_000n])
  })
})

function mutate(v: unknown): unknown {
  if (typeof v === 'number') return v + 1
  if (typeof v === 'string') return /^0x[0-9a-fA-F]{40}$/.test(v) ? '0x9999999999999999999999999999999999999999' : /^[0-9]+$/.test(v) ? `${v}1` : `${v}x`
  if (v === null) return 'x'
  return { changed: v }
}
