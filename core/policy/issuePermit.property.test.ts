import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LedgerEvent } from '../ledger/LedgerEvent.js'
import { ledgerAsset } from '../ledger/ledgerAsset.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { type IssuePermitParameters, issuePermit } from './issuePermit.js'

/** issuePermit before diet37 (core/policy/issuePermit.ts at 1976995), verbatim but for its name: the event listed field by field. */
const ZERO = '0x0000000000000000000000000000000000000000'
function oldIssuePermit(ledger: SpendLedger, p: IssuePermitParameters) {
  if (ledger.getPermit(p.permitId)) return { ok: false, code: 'permit_exists', message: `permit ${p.permitId} exists` }
  const payTo = p.payTo === null || p.payTo.toLowerCase() === ZERO ? null : p.payTo.toLowerCase()
  const host = p.host === null || p.host === '' ? null : p.host.toLowerCase()
  if (payTo === null && host === null)
    return { ok: false, code: 'permit_invalid', message: 'a permit must be locked to a pay-to address or a host' }
  if (p.expiresAt <= p.now) return { ok: false, code: 'permit_invalid', message: 'permit already expired' }
  if (!/^(0|[1-9][0-9]{0,77})$/.test(p.amount)) return { ok: false, code: 'permit_invalid', message: 'bad amount' }
  const asset = ledgerAsset(p.asset)
  const event: LedgerEvent = {
    type: 'permit_issued',
    permitId: p.permitId,
    agentId: p.agentId,
    chainId: p.chainId,
    asset,
    amount: p.amount,
    payTo,
    host,
    expiresAt: p.expiresAt,
    exceedCaps: p.exceedCaps,
    at: p.now,
  }
  return { ok: true, events: [event] }
}

const address = fc.oneof(fc.constant(ZERO), fc.constant(ZERO.toUpperCase().replace('0X', '0x')), fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`), fc.constant('0xAbCdEf0123456789aBcDeF0123456789AbCdEf01'))
const params: fc.Arbitrary<IssuePermitParameters> = fc.record({
  permitId: fc.constantFrom('p1', 'p2', 'held'),
  agentId: fc.constantFrom('agt_a', 'agt_b'),
  chainId: fc.integer({ min: 1, max: 2 ** 53 - 1 }),
  asset: fc.oneof(address, fc.constant('native')),
  amount: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n }).map(String), fc.constantFrom('', '01', '-1', '1.5', ' 1')),
  payTo: fc.option(address, { nil: null }),
  host: fc.option(fc.constantFrom('', 'a.example', 'API.Example.COM'), { nil: null }),
  expiresAt: fc.integer({ min: 0, max: 3_000 }),
  exceedCaps: fc.boolean(),
  now: fc.integer({ min: 0, max: 3_000 }),
})

describe('issuePermit (diet37: its event built from its parameters)', () => {
  it('gives what the field-by-field version gave, key order included, on generated permits', () => {
    const ledger = new SpendLedger()
    const held = issuePermit(ledger, { permitId: 'held', agentId: 'agt_a', chainId: 1, asset: 'native', amount: '1', payTo: null, host: 'a.example', expiresAt: 10_000, exceedCaps: false, now: 0 })
    if (held.ok) for (const e of held.events) ledger.apply(e)
    let issued = 0
    fc.assert(
      fc.property(params, (p) => {
        const [got, want] = [issuePermit(ledger, p), oldIssuePermit(ledger, p)]
        expect(JSON.stringify(got)).toBe(JSON.stringify(want))
        if (got.ok) issued++
      }),
      { numRuns: 5_000 },
    )
    expect(issued).toBeGreaterThan(500)
  })
})
