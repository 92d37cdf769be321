import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { signedByOwner } from './signedByOwner.js'

const owner = privateKeyToAccount(generatePrivateKey())
const coOwner = privateKeyToAccount(generatePrivateKey())
const stranger = privateKeyToAccount(generatePrivateKey())
const wallet = `0x${'ab'.repeat(20)}`
const freeze = { wallet, agentId: `agt_${'cd'.repeat(20)}`, frozen: true, seq: '1' }

/** scope38: what orders the host's relay queue (an owner's act ahead of others'); governance still decides every act. */
describe('signedByOwner', () => {
  let reads = 0
  const check = signedByOwner(async () => (reads++, [{ address: wallet.toUpperCase().replace('0X', '0x'), governance: { owners: [owner.address, coOwner.address] } }]), 60_000)

  it("is true for an act signed by one of the wallet's owners (any of them), false for a stranger's or a forged one", async () => {
    expect(await check(await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: freeze }))).toBe(true)
    expect(await check(await signOwnerAct({ account: coOwner, primaryType: 'FreezeAgent', message: freeze }))).toBe(true)
    expect(await check(await signOwnerAct({ account: stranger, primaryType: 'FreezeAgent', message: freeze }))).toBe(false)
    const signed = await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: freeze })
    expect(await check({ ...signed, message: JSON.stringify({ ...freeze, seq: '2' }) })).toBe(false) // another message
    expect(await check({ ...signed, signature: `0x${'11'.repeat(65)}` })).toBe(false)
    expect(await check({ ...signed, message: '{' })).toBe(false)
    expect(await check({ ...signed, primaryType: 'NoSuchAct' })).toBe(false)
    expect(await check(await signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { ...freeze, wallet: `0x${'ef'.repeat(20)}` } }))).toBe(false) // a wallet it does not know
    expect(reads).toBe(1) // the owners are read once per maxAgeMs, not per act
  })
})
