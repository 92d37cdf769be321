import { describe, expect, it } from 'vitest'
import { applyWalletChange } from './applyWalletChange.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import type { HeldAct, StateChange, WalletRecord } from '../state/stateTypes.js'
import { applyDueHeld } from './applyDueHeld.js'
import { heldActEvents } from './heldActEvents.js'
import { ledgerActEvents } from './ledgerActEvents.js'

const OWNER = '0x00000000000000000000000000000000000000aa' as const
const WALLET = '0x1111111111111111111111111111111111111111' as const
const AGENT = `agt_${'1'.repeat(40)}`
const T0 = 1_800_000_000_000
const wallet = (): WalletRecord => ({
  address: WALLET, privateKey: new Uint8Array(32), owner: OWNER, label: '', createdAt: T0, ownerSeq: 5, rolledBack: false,
  agents: new Map([[AGENT, { agentId: AGENT, publicKey: new Uint8Array(32), label: '', status: 'active', registeredAt: T0 }]]),
  policies: new Map(), ledger: new SpendLedger(),
})
const base = { wallet: WALLET, agentId: AGENT, seq: '6' }
const HELD = {
  FreezeAgent: { ...base, frozen: false },
  CreditBudget: { ...base, chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '30' },
  IssuePermit: { ...base, permitId: 'p1', chainId: '84532', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '30', payTo: '0x00000000000000000000000000000000000000bb', host: '', expiresAt: String(T0 + 3_600_000), exceedCaps: false },
}
const held = (primaryType: string, message: object): HeldAct => ({ actHash: `0x${'ab'.repeat(32)}`, primaryType, message: JSON.stringify(message), signer: OWNER, agentId: AGENT, scheduledAt: T0 - 10, effectiveAt: T0 })

/** The writer's shell, on one wallet: applies state changes as EnclaveState does for this wallet, records audit entries. */
function shell(w: WalletRecord) {
  const entries: Array<{ event: string; reason?: string; ledger?: unknown[] }> = []
  return {
    entries,
    state: { apply: (c: StateChange) => (c.type === 'ledger' ? c.events.forEach((e) => w.ledger.apply(e as never)) : c.type === 'wallet_changed' ? applyWalletChange(w, c.change) : undefined) },
    appendInfo: (_tx: unknown, event: string, fields: { reason?: string; ledger?: unknown[] } = {}) => entries.push({ event, ...fields }),
    halt: (why: string): never => { throw new Error(why) },
  }
}

describe('heldActEvents (the signer’s part of ledgerActEvents: the acts a time lock holds)', () => {
  it('gives the same outcome as ledgerActEvents for each act the time lock holds', () => {
    for (const [primaryType, message] of Object.entries(HELD)) {
      const act = { primaryType, message, signer: OWNER } as never
      expect(heldActEvents(wallet(), act, T0), primaryType).toEqual(ledgerActEvents({ wallet: wallet(), act, now: T0 }))
    }
  })

  it('a due held act of a type the time lock never holds is audited as cancelled, its ledger untouched', () => {
    const w = wallet()
    w.ledger.apply({ type: 'agent_frozen', agentId: AGENT, reason: 'owner', at: T0 - 20 })
    const before = w.ledger.toJSONText()
    w.held = [held('ResolvePending', { wallet: WALLET, pendingId: 'x', digest: `0x${'00'.repeat(32)}`, approve: true, seq: '6' }), held('FreezeAgent', HELD.FreezeAgent)]
    const s = shell(w)
    const tx = { snapshot: false }
    applyDueHeld(s as never, w, tx, T0)
    expect(s.entries.map((e) => e.event)).toEqual(['scheduled_cancelled', 'agent_unfrozen'])
    expect(s.entries[0]!.reason).toMatch(/ResolvePending no longer applies: ResolvePending is not an act the time lock holds/)
    expect(w.held).toEqual([])
    expect(w.ledger.toJSONText()).not.toBe(before) // the unfreeze applied
    expect(w.ledger.frozenInfo(AGENT)).toBeUndefined()
  })
})
