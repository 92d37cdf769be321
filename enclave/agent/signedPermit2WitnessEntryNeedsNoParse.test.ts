import { describe, expect, it } from 'vitest'
import { AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { CHAIN_ID, TOKEN, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { dispatch } from '../protocol/dispatch.js'

/**
 * rt34b, attack on enc34's skipped parse of the allowed sign entry: a Permit2 PermitWitnessTransferFrom to a spender
 * that is no x402 proxy, whose witness struct the agent names and shapes (type name, field names, field types): the
 * decoder copies them into the action (`witness.type`, `witness.struct`, `witness.fields`). Generated: type names at
 * and past the entry schema's 64 characters, field names at the identifier edges (`$`, `toString`, `__proto__` which
 * the decoder refuses), values as JSON numbers or strings (-0, 1e21, 2^53+1, max uint256), bools, mixed-case
 * addresses. Property: an allowed request's entry is accepted by the entry schema and its parse is the identity.
 */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32)
}
const NAMES = ['to', '$', '_', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'constructor', 'a1', 'validAfter']
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const SPENDER = '0x1111111111111111111111111111111111111111'

describe('enclave: the allowed permit2 witness entry skips its schema parse (rt34b)', () => {
  it('generated witness structs: every allowed request yields an entry the schema accepts unchanged', async () => {
    const { enclave, wallet, agent, clock } = await paymentEnclave({
      perTx: '1000000', rolling24h: '1000000000000',
      rules: [{ id: 'p2', effect: 'allow', kinds: ['permit2_transfer'] }],
    })
    const rand = rng(0x34b2)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!
    const atomic = (): [string, unknown] => {
      switch (Math.floor(rand() * 5)) {
        case 0: return ['uint256', pick<unknown>([0, -0, 2 ** 53 + 1, 1e21, '115792089237316195423570985008687907853269984665640564039457584007913129639935', '7'])]
        case 1: return ['uint48', pick<unknown>([0, 2 ** 48 - 1, '281474976710655', 1.5])]
        case 2: return ['bool', pick<unknown>([true, false])]
        case 3: return ['bytes32', pick([`0x${'Ab'.repeat(32)}`, `0x${'00'.repeat(32)}`])]
        default: return ['address', pick(['0x209693Bc6afc0C5328bA36FaF03C514EF312287C', '0x209693bc6afc0c5328ba36faf03c514ef312287c'])]
      }
    }
    let [allowed, refused] = [0, 0]
    for (let i = 0; i < 200; i++) {
      clock.t += 1
      const witnessType = pick(['W', 'Witness_', `W${'x'.repeat(62)}`, `W${'x'.repeat(63)}`, `W${'y'.repeat(300)}`, '$W'])
      const fields: { name: string; type: string }[] = []
      const witness: Record<string, unknown> = {}
      for (let n = 1 + Math.floor(rand() * 4), k = 0; k < n; k++) {
        const [type, value] = atomic()
        const name = pick(NAMES)
        fields.push({ name, type })
        witness[name] = value
      }
      const typedData = {
        domain: { name: 'Permit2', chainId: CHAIN_ID, verifyingContract: PERMIT2 },
        types: {
          PermitWitnessTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }, { name: 'witness', type: witnessType }],
          TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }],
          [witnessType]: fields,
        },
        primaryType: 'PermitWitnessTransferFrom',
        message: { permitted: { token: TOKEN, amount: String(1 + Math.floor(rand() * 1000)) }, spender: SPENDER, nonce: String(i), deadline: String(Math.floor(clock.t / 1000) + 600), witness },
      }
      const r = signAgentRequest({ agent, wallet, operation: { op: 'signTypedData', typedData } as never, issuedAt: clock.t })
      const res = await dispatch(enclave, { type: 'agentSign', request: r.request, signature: r.signature })
      if (!res.ok) {
        refused++
        continue
      }
      allowed++
      const stored = res.persist!.entries.at(-1)!
      const hashed = `${stored.slice(0, stored.lastIndexOf(',"hash":"0x'))}}`
      const entry = JSON.parse(hashed) as { event: string; action: { kind: string } }
      expect([entry.event, entry.action.kind]).toEqual(['sign_allowed', 'permit2_transfer'])
      const parsed = AuditEntrySchema.safeParse(entry)
      expect(parsed.success, `${parsed.error?.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`).toBe(true)
      expect(canonicalJson(parsed.data)).toBe(hashed)
    }
    if (process.env.SHOW) console.log({ allowed, refused })
    expect(allowed).toBeGreaterThan(20)
    expect(refused).toBeGreaterThan(20)
  })
})
