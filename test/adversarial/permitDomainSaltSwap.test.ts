import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { CHAIN_ID, type PolicyBody, TOKEN, TOKEN_ENTRY, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const DEX = '0x1111111254EEB25477B68fb85Ed929f73A960582' as const
const SALT = `0x${'ab'.repeat(32)}` as const

/** No rule matches a permit to the DEX: it goes to the owner. */
const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000000', rolling24h: '10000000' }],
  rules: [{ id: 'ask-owner', effect: 'allow', kinds: ['erc2612_permit'], spenders: { in: ['0x0000000000000000000000000000000000000001'] }, onViolation: 'pending' }],
}

const permit = (wallet: Hex, salt?: Hex) =>
  ({
    op: 'signTypedData',
    typedData: {
      domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN, ...(salt ? { salt } : {}) },
      types: {
        Permit: [
          { name: 'owner', type: 'address' },
          { name: 'spender', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
        ],
      },
      primaryType: 'Permit',
      message: { owner: wallet, spender: DEX, value: '5', nonce: '0', deadline: '1900000000' },
    },
  }) satisfies AgentOperation

/**
 * bind12, attack on issue 12 finding 1 (an approval binds the exact thing signed), through the real host and enclave:
 * an EIP-2612 Permit's domain may carry a `salt`. The decoder hashed it into the digest but the decoded action (the
 * approval key, the owner's summary, the audit) did not record it: the owner approved `Permit(DEX, 5)` under the
 * token's registry domain and the agent then got the same Permit under a salted domain signed on that approval (a
 * signature for another domain, never shown). The registry names no salt: a salted domain is refused
 * (sign_domain_mismatch), and the approved permit still signs, checked with viem.
 */
describe('adversarial: an approved permit cannot be swapped for one under a salted domain', () => {
  const ask = async (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('approved Permit(DEX, 5) signs; the same Permit under a salted domain is refused with no signature', async () => {
    const honest = permit(s.wallet)
    const first = await ask(honest)
    expect(first.json.code, JSON.stringify(first.json)).toBe('approval_pending')
    await s.client.resolvePending(s.wallet, first.json.pendingId as string, true)

    const evil = await ask(permit(s.wallet, SALT))
    expect(evil.json.signature).toBeUndefined()
    expect(evil.json.code).toBe('sign_domain_mismatch')

    const ok = await ask(honest)
    expect(ok.status, JSON.stringify(ok.json)).toBe(200)
    const td = honest.typedData
    const verify = (domain: object) =>
      verifyTypedData({
        address: s.wallet,
        domain: domain as never,
        types: td.types,
        primaryType: 'Permit',
        message: { owner: s.wallet, spender: DEX, value: 5n, nonce: 0n, deadline: 1_900_000_000n },
        signature: ok.json.signature as Hex,
      })
    expect(await verify(td.domain)).toBe(true)
    expect(await verify({ ...td.domain, salt: SALT })).toBe(false)
  })
})
