import { describe, expect, it } from 'vitest'
import { OwnerActMessageSchemas } from './ownerActTypes.js'

const credit = { wallet: `0x${'1'.repeat(40)}`, agentId: `agt_${'a'.repeat(40)}`, chainId: '8453', asset: `0x${'2'.repeat(40)}`, amount: '1', seq: '1' }
const U256_MAX = ((1n << 256n) - 1n).toString()

describe('owner act integers are range-checked by their schema (never throw, never pass out of range)', () => {
  it.each([
    ['amount', '2.5'],
    ['amount', 'x'],
    ['amount', (1n << 256n).toString()],
    ['amount', '1'.repeat(100)],
    ['chainId', '0'],
    ['chainId', (2n ** 53n).toString()],
    ['chainId', '-1'],
    ['seq', (2n ** 64n - 1n).toString()],
    ['seq', '01'],
  ])('refuses %s = %s', (field, value) => {
    expect(OwnerActMessageSchemas.CreditBudget.safeParse({ ...credit, [field]: value }).success).toBe(false)
  })

  it('accepts the extremes that are in range', () => {
    expect(OwnerActMessageSchemas.CreditBudget.safeParse({ ...credit, amount: U256_MAX, chainId: String(Number.MAX_SAFE_INTEGER), seq: '0' }).success).toBe(true)
  })

  it('times are milliseconds a Date can hold', () => {
    const m = { owner: credit.wallet, label: '', nonce: `0x${'3'.repeat(64)}`, auditChain: `0x${'0'.repeat(64)}` }
    expect(OwnerActMessageSchemas.CreateWallet.safeParse({ ...m, issuedAt: '8640000000000000' }).success).toBe(true)
    expect(OwnerActMessageSchemas.CreateWallet.safeParse({ ...m, issuedAt: '8640000000000001' }).success).toBe(false)
    expect(OwnerActMessageSchemas.CreateWallet.safeParse({ ...m, issuedAt: '0' }).success).toBe(false)
  })
})
