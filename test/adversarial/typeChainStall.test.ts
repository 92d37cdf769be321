import { type Hex, verifyTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { TYPED_DATA_LIMITS } from '../../core/decode/normalizeTypedMessage.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, eip3009, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { cpuWhile } from '../helpers/processCpu.js'

const policy: PolicyBody = {
  version: 1,
  timeZone: 'UTC',
  tokens: [TOKEN_ENTRY],
  budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '1000', rolling24h: '100000' }],
  rules: [
    { id: 'chain', effect: 'allow', kinds: ['typed_data'], typedData: [{ domainName: 'Chain', primaryTypes: ['T0'] }] },
    { id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [MERCHANT] } },
  ],
}

/**
 * T0 { items: T0[]; chain: T1[] } and a chain T1 → T2 → … → T31 of padded
 * types reached only through empty arrays: 32 types, ≤ 10 fields each, depth
 * 2, ≤ 512 values — inside every other typed-data limit, ~55 KB of JSON.
 * EIP-712 hashing re-derives T0's type string (all 32 types, ~46 KB) for
 * each of the `items` instances.
 */
function typeChain(items: number): Extract<AgentOperation, { op: 'signTypedData' }> {
  const types: Record<string, { name: string; type: string }[]> = {
    T0: [
      { name: 'items', type: 'T0[]' },
      { name: 'chain', type: 'T1[]' },
    ],
  }
  for (let i = 1; i < 32; i++) {
    const fields = i < 31 ? [{ name: 'next', type: `T${i + 1}[]` }] : []
    for (let j = 0; j < 8; j++) fields.push({ name: `f${j}_${'x'.repeat(170)}`, type: 'uint256' })
    types[`T${i}`] = fields
  }
  const message = { items: Array.from({ length: items }, () => ({ items: [], chain: [] })), chain: [] }
  return { op: 'signTypedData', typedData: { domain: { name: 'Chain', version: '1', chainId: CHAIN_ID }, types, primaryType: 'T0', message } }
}

/**
 * Attack: a malicious agent sends typed data within TYPED_DATA_LIMITS whose
 * long chain of types makes the EIP-712 type-string encoding quadratic
 * (169 instances × a 46 KB type string ≈ 8 MB hashed: ~0.8 s of the enclave's
 * only event loop per request, measured). Now the total length of the type
 * strings hashing derives is bounded (`maxTypeWork`, 64 Ki): refused with
 * `sign_typed_data_too_large` before the writer, in milliseconds; the same
 * types with one instance still sign, and payments keep flowing.
 */
describe('adversarial: a typed-data type chain that makes hashing quadratic', () => {
  const ask = (operation: AgentOperation) => postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation }))

  const s = stackWithAgentPerFile(policy)

  it('169 instances of the chained type: no signature, sign_typed_data_too_large; 16 at once do not hold up a payment', async () => {
    const op = typeChain(169)
    expect(Object.keys(op.typedData.types).length).toBeLessThanOrEqual(TYPED_DATA_LIMITS.maxTypes)
    expect(JSON.stringify(op).length).toBeLessThan(60_000)
    const { value: r, cpuMs } = await cpuWhile([s.stack.enclave.pid!], () => ask(op))
    expect(r.json.signature).toBeUndefined()
    expect(r.json.code).toBe('sign_typed_data_too_large')
    expect(String(r.json.message)).toMatch(/type strings longer than 65536/)
    // The code above is the property (refused before the writer). suite40: the cost is the enclave's CPU, not the
    // client's wall time (suite39's loose 5 s / 8 s bounds could not see one request's ~0.8 s and were still stretched
    // by a loaded CI box): without the bound one such request holds the enclave's only loop ~0.8 s, the 16 below ~13 s.
    expect(cpuMs).toBeLessThan(400)
    const pay = eip3009({ wallet: s.wallet, value: 10n })
    const all = await cpuWhile([s.stack.enclave.pid!], async () => {
      const flood = Array.from({ length: 16 }, () => ask(typeChain(169)))
      return { paid: await ask(pay), flood: await Promise.all(flood) }
    })
    const { paid, flood } = all.value
    expect(paid.status, JSON.stringify(paid.json)).toBe(200)
    expect(await verifyEip3009(s.wallet, pay, paid.json.signature as Hex)).toBe(true)
    for (const f of flood) expect(f.json).toMatchObject({ code: 'sign_typed_data_too_large' })
    console.log(`typeChainStall: one refusal ${cpuMs} ms, 16 refusals + a payment ${all.cpuMs} ms of enclave CPU`)
    expect(all.cpuMs).toBeLessThan(2_000)
  })

  it('honest: the same 32 types with one instance (one type string, ~46 KB) sign and verify with viem', async () => {
    const op = typeChain(0)
    const r = await ask(op)
    expect(r.status, JSON.stringify(r.json)).toBe(200)
    const td = op.typedData
    const ok = await verifyTypedData({
      address: s.wallet,
      domain: { name: 'Chain', version: '1', chainId: CHAIN_ID },
      types: td.types as never,
      primaryType: 'T0',
      message: td.message as never,
      signature: r.json.signature as Hex,
    } as never)
    expect(ok).toBe(true)
  })
})
