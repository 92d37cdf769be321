import { describe, expect, it } from 'vitest'
import { decodePermit2 } from '../decode/decodePermit2.js'
import { approvalKey, approvalRequest } from './approvalRequest.js'
import { factsOf } from '../kinds/kindTable.js'

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const SPENDER = '0x1111111254EEB25477B68fb85Ed929f73A960582' // not an x402 proxy: any flat witness struct is accepted
const WALLET = '0x2222222222222222222222222222222222222222'

const witnessPermit = (fields: { name: string; type: string }[]) => ({
  domain: { name: 'Permit2', chainId: 84532, verifyingContract: PERMIT2 },
  types: {
    PermitWitnessTransferFrom: [
      { name: 'permitted', type: 'TokenPermissions' },
      { name: 'spender', type: 'address' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
      { name: 'witness', type: 'Order' },
    ],
    TokenPermissions: [
      { name: 'token', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
    Order: fields,
  },
  primaryType: 'PermitWitnessTransferFrom',
  message: { permitted: { token: TOKEN, amount: '5' }, spender: SPENDER, nonce: '1', deadline: '1900000000', witness: { a: '1', b: '2' } },
})

/**
 * rt29a, attack on issue 12 finding 1 (an approval binds the exact thing signed), sess18's approval key: a Permit2
 * witness transfer's decoded action kept the witness's field names and values but not their EIP-712 types or order,
 * so `Order(uint256 a,uint256 b)`, `Order(uint256 b,uint256 a)` and `Order(uint48 a,uint160 b)` with the same values
 * — three different digests, three different witness type strings a spender contract verifies — had one approval key
 * and one owner summary: an approval of one let the agent get another signed. Each must have its own key and digest.
 */
describe('attack: a Permit2 witness with other field types or order rides on an approval', () => {
  it('witness structs that hash differently have different approval keys and owner digests', () => {
    const variants = [
      [{ name: 'a', type: 'uint256' }, { name: 'b', type: 'uint256' }],
      [{ name: 'b', type: 'uint256' }, { name: 'a', type: 'uint256' }],
      [{ name: 'a', type: 'uint48' }, { name: 'b', type: 'uint160' }],
    ]
    const decoded = variants.map((fields) => {
      const r = decodePermit2({ typedData: witnessPermit(fields) as never, requirements: undefined, wallet: WALLET })
      if (!r.ok) throw new Error(r.message)
      return r
    })
    const digests = new Set(decoded.map((r) => r.plan.digest))
    expect(digests.size).toBe(3) // three different things to sign
    const now = 1_800_000_000_000
    const keys = new Set(decoded.map((r) => approvalKey({ agentId: 'agt', host: null, action: r.action })))
    const owner = new Set(decoded.map((r) => approvalRequest({ agentId: 'agt', host: null, action: r.action, facts: factsOf(r.action), now }).digest))
    expect(keys.size).toBe(3)
    expect(owner.size).toBe(3)
  })
})
