import { secp256k1 } from '@noble/curves/secp256k1'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { EIP3009_FIELDS } from '../shared/schemas/eip3009Types.js'
import type { AgentRequest } from '../shared/schemas/agentRequest.js'
import { bursarAccount } from './bursarAccount.js'
import { generateAgentKey } from './generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostParameters, type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'

// A host that answers 200 with something other than the wallet's signature of what was asked: every answer must be
// refused by the SDK before the caller sees it (the SDK's check, with the wallet key learnt from a proven answer).
const WALLET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const
const OTHER_KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba' as const
const wallet = privateKeyToAccount(WALLET_KEY).address
const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }
const merchant = '0x000000000000000000000000000000000000bEEF' as const
const N = secp256k1.CURVE.n

const payment = (value: bigint, nonceByte = '11') => ({
  domain: { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as Hex },
  types: { TransferWithAuthorization: EIP3009_FIELDS },
  primaryType: 'TransferWithAuthorization' as const,
  message: { from: wallet, to: merchant, value, validAfter: 0n, validBefore: 2n ** 40n, nonce: `0x${nonceByte.repeat(32)}` as Hex },
})

let host: MockBursarHostReturnType | undefined
afterEach(async () => {
  await host?.stop()
  host = undefined
})
const start = async (p: Partial<MockBursarHostParameters>) => {
  host = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY, ...p })
  return bursarAccount({ host: host.url, agentKey, wallet })
}
const codeOf = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string }) => e.code)

describe('a malicious host cannot make the SDK return a signature that is not the wallet’s over what was asked', () => {
  it('substitutes the wallet’s genuine signature of ANOTHER payment (bigger amount): refused, before and after the key is learnt', async () => {
    const swap = (r: AgentRequest): AgentRequest =>
      r.op === 'signTypedData' ? { ...r, typedData: { ...r.typedData, message: { ...r.typedData.message, value: '999999' } } } : r
    const account = await start({ tamper: (answer, request, i, signFor) => (i === 1 ? answer : signFor(swap(request))) })
    expect(await codeOf(account.signTypedData(payment(10n)))).toBe('response_signer_mismatch') // key not learnt yet
    const good = await account.signTypedData(payment(10n, '22')) // honest answer: key learnt
    expect(await recoverTypedDataAddress({ ...payment(10n, '22'), signature: good })).toBe(wallet)
    expect(await codeOf(account.signTypedData(payment(10n, '33')))).toBe('response_signer_mismatch')
  })

  it('signs with another key first (trying to get its key learnt): refused, and the real wallet is still accepted after', async () => {
    const liar = privateKeyToAccount(OTHER_KEY)
    const account = await start({
      tamper: async (answer, request, i) =>
        i === 1 || request.op !== 'signTypedData' ? answer : { ...answer, signature: await liar.signTypedData(payment(10n, i === 0 ? '11' : '33')) },
    })
    expect(await codeOf(account.signTypedData(payment(10n, '11')))).toBe('response_signer_mismatch')
    expect(await codeOf(account.signTypedData(payment(10n, '22')))).toBe('accepted')
    expect(await codeOf(account.signTypedData(payment(10n, '33')))).toBe('response_signer_mismatch')
  })

  it('flips a bit of the wallet’s signature, flips its recovery bit, or sends its high-s twin: refused', async () => {
    const edits: ((sig: Hex) => Hex)[] = [
      (sig) => `${sig.slice(0, 20)}${sig[20] === 'a' ? 'b' : 'a'}${sig.slice(21)}` as Hex,
      (sig) => `${sig.slice(0, 130)}${sig.slice(130) === '1b' ? '1c' : '1b'}` as Hex,
      (sig) => {
        const s = N - BigInt(`0x${sig.slice(66, 130)}`)
        return `${sig.slice(0, 66)}${s.toString(16).padStart(64, '0')}${sig.slice(130) === '1b' ? '1c' : '1b'}` as Hex
      },
    ]
    let edit = edits[0]!
    const account = await start({ tamper: (answer, _r, i) => (i === 0 ? answer : { ...answer, signature: edit(answer.signature as Hex) }) })
    await account.signTypedData(payment(1n, '01')) // key learnt from an honest answer
    const codes: unknown[] = []
    for (const [k, e] of edits.entries()) {
      edit = e
      codes.push(await codeOf(account.signTypedData(payment(1n, `0${k + 2}`))))
    }
    expect(codes).toEqual(['response_signer_mismatch', 'response_signer_mismatch', 'response_invalid'])
  })

  it('answers a transaction with the wallet’s signature of a different transaction: refused; what is returned is never the host’s serialization', async () => {
    const tx = { type: 'eip1559' as const, chainId: 84532, to: merchant, nonce: 0, gas: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, value: 5n }
    const redirect = (r: AgentRequest): AgentRequest =>
      r.op === 'signTransaction' ? { ...r, transaction: { ...r.transaction, to: '0x000000000000000000000000000000000000dEaD' } } : r
    let evil = false
    const account = await start({ tamper: (answer, request, _i, signFor) => (evil ? signFor(redirect(request)) : answer) })
    expect(await codeOf(account.signTransaction(tx))).toBe('accepted')
    evil = true
    expect(await codeOf(account.signTransaction({ ...tx, nonce: 1 }))).toBe('response_signer_mismatch')
  })

  it('a tampered message signature is refused', async () => {
    const account = await start({
      tamper: async (answer, _r, i, signFor) =>
        i === 0 ? answer : signFor({ v: 1, agentId: agentKey.agentId, wallet, nonce: '0'.repeat(32), issuedAt: 0, expiresAt: 30_000, op: 'signMessage', message: { text: 'other' } }),
    })
    expect(await codeOf(account.signMessage({ message: 'hello' }))).toBe('accepted')
    expect(await codeOf(account.signMessage({ message: 'hello' }))).toBe('response_signer_mismatch')
  })
})
