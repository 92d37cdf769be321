import { encode } from 'cborg'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LedgerEvent } from '../../core/ledger/LedgerEvent.js'
import { HOUR_MS, SpendLedger } from '../../core/ledger/SpendLedger.js'
import type { WalletRecord } from '../../core/state/stateTypes.js'
import { decodeWalletBlob, encodeWalletBlob } from '../../core/state/snapshotCodec.js'
import { RecentIds } from '../../core/replay/RecentIds.js'

/**
 * Issue 18: a wallet blob's ledger text comes mostly from its series' caches (TimeSeries.toJSONText). Random
 * sequences of spends (bursts in one millisecond, pre-approvals), requests and denials (counters trimmed to their
 * newest entries), owner credits dated in the past (CreditBudget), channel releases (ReleaseLocked), time jumps that
 * sweep (prune, coalesce, compact), reloads from the sealed text (a restart, then replay on top) and seals: every
 * seal's bytes equal the uncached encoding (JSON.stringify(ledger.toJSON()) in the same CBOR) byte for byte, and
 * decode to the same ledger.
 */
const AGENTS = ['agent-a', 'agent-b']
const ASSET = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
const CHANNEL = `0x${'ab'.repeat(32)}`

type Op =
  | { op: 'burst'; agent: number; count: number; step: number; amount: number; pre: boolean }
  | { op: 'credit'; agent: number; back: number; count: number; amount: number }
  | { op: 'denials'; agent: number; count: number }
  | { op: 'release'; amount: number }
  | { op: 'jump'; ms: number }
  | { op: 'reload' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('burst' as const), agent: fc.nat(1), count: fc.integer({ min: 1, max: 400 }), step: fc.constantFrom(0, 1, 3, 250), amount: fc.integer({ min: 1, max: 10 ** 9 }), pre: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('credit' as const), agent: fc.nat(1), back: fc.constantFrom(0, 5, 30_000, 3 * HOUR_MS), count: fc.constantFrom(1, 200), amount: fc.integer({ min: 1, max: 10 ** 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('denials' as const), agent: fc.nat(1), count: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), amount: fc.integer({ min: 1, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('jump' as const), ms: fc.constantFrom(1, 61_000, 30 * 60_000, 90 * 60_000, 2 * HOUR_MS + 1, 28 * HOUR_MS) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reload' as const }) },
)
const ops = fc.array(fc.tuple(op, fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 25 }).map((xs) => xs.flatMap(([o, a, b]) => [o, ...(a || b ? ['seal' as const] : [])]))

function wallet(ledger: SpendLedger): WalletRecord {
  return { address: `0x${'11'.repeat(20)}`, privateKey: new Uint8Array(32).fill(7), owner: `0x${'22'.repeat(20)}`, label: 'w', createdAt: 1, ownerSeq: 3, rolledBack: false, agents: new Map(), policies: new Map(), ledger }
}

/** What encodeWalletBlob wrote before issue 18's cache: the ledger text by JSON.stringify of its plain form. */
function uncached(b: Parameters<typeof encodeWalletBlob>[0]): Uint8Array {
  const w = b.wallet
  return encode({ v: 1, ...b, wallet: { ...w, agents: [...w.agents.values()], policies: [...w.policies.values()], ledger: JSON.stringify(w.ledger.toJSON()) } })
}

function check(ledger: SpendLedger): void {
  const b = { coreId: new Uint8Array(16).fill(1), version: 9, auditSeq: 42, replay: [['agent-a:n1', 5] as [string, number]], wallet: wallet(ledger) }
  const bytes = encodeWalletBlob(b)
  expect(Buffer.from(bytes).equals(Buffer.from(uncached(b)))).toBe(true)
  // Replay18: the request ids spliced in from their cached per-second CBOR give the same blob as the plain list.
  const ids = new RecentIds()
  for (const [k, at] of [['agent-a:n1', 5], ['agent-b:n2', 1_764_000_000_999], ['agent-a:n3', 1_764_000_001_000]] as const) ids.add(k, at)
  ids.encodedFor(['agent-a'])
  ids.add('agent-a:n4', 1_764_000_001_500)
  const grouped = encodeWalletBlob({ ...b, replay: ids.encodedFor(['agent-a', 'agent-b']) })
  expect(Buffer.from(grouped).equals(Buffer.from(uncached({ ...b, replay: ids.listFor(['agent-a', 'agent-b']) })))).toBe(true)
  // Both id formats load to the same ids: grouped per agent (replay18) and the flat list older blobs hold.
  expect(decodeWalletBlob(grouped).replay.sort()).toEqual([...ids].sort())
  expect(decodeWalletBlob(encodeWalletBlob({ ...b, replay: [...ids] })).replay).toEqual([...ids])
  expect(decodeWalletBlob(bytes).wallet.ledger.toJSON()).toEqual(SpendLedger.fromJSON(ledger.toJSON()).toJSON())
}

describe('sealed wallet ledger: cached text equals the uncached encoding', () => {
  it('after any mix of spends, requests, denials, credits, releases, sweeps, reloads and seals', () => {
    fc.assert(
      fc.property(ops, (list) => {
        let ledger = new SpendLedger()
        let now = 1_764_000_000_000
        const apply = (e: LedgerEvent) => ledger.apply(e)
        apply({ type: 'channel', agentId: AGENTS[0]!, channelId: CHANNEL, chainId: 84532, asset: ASSET, locked: '1000000', signed: '0', at: now })
        for (const o of list) {
          if (o === 'seal') {
            check(ledger)
            continue
          }
          switch (o.op) {
            case 'burst':
              for (let k = 0; k < o.count; k++) {
                now += o.step
                const agentId = AGENTS[o.agent]!
                apply({ type: 'request', agentId, at: now })
                apply({ type: 'spend', agentId, chainId: 84532, asset: ASSET, amount: String(o.amount + k), payTo: ASSET, role: 'authorization', host: null, at: now, validBefore: null, ...(o.pre ? { preApprovalId: 'pre-1' } : {}) } as LedgerEvent)
              }
              break
            case 'credit':
              // Dated `back` ms ago, one ms apart: inserted between (and merged into) the credits already there.
              for (let k = 0; k < o.count; k++) apply({ type: 'budget_credit', agentId: AGENTS[o.agent]!, chainId: 84532, asset: ASSET, amount: String(o.amount), at: now - o.back + k })
              break
            case 'denials':
              for (let k = 0; k < o.count; k++) apply({ type: 'denial', agentId: AGENTS[o.agent]!, code: 'policy_denied', at: (now += 2) })
              break
            case 'release':
              apply({ type: 'channel_released', channelId: CHANNEL, amount: String(o.amount), at: now })
              break
            case 'jump':
              now += o.ms
              apply({ type: 'request', agentId: AGENTS[0]!, at: now }) // the next event sweeps when a minute passed
              break
            case 'reload':
              ledger = SpendLedger.fromJSON(JSON.parse(ledger.toJSONText()))
          }
        }
        check(ledger)
      }),
      { numRuns: 120 },
    )
  })
})
