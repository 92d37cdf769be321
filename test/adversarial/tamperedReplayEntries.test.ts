import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { hashCanonicalAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import {
  MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: at bootstrap the host hands the enclave the right snapshot but
 * edits the entries recorded after it (gap, edited entry, another chain,
 * reordered, duplicated), or appends entries it made up itself. The enclave
 * must refuse the replay and never become ready on it.
 */
describe('adversarial: tampered entries replayed after a snapshot', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  let snap: SealedSnapshot
  let after: string[]
  let foreign: string[]

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '10000' }))
    ;({ host, owner, wallet, agent } = s)
    await host.waitAgentFloor()
    for (let i = 0; i < 4; i++) {
      const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 2000n }) }))
      expect(r.ok).toBe(true)
    }
    snap = host.latestSnapshot()!
    after = host.entriesAfter(snap.auditSeq)
    expect(after.length).toBe(4)
    // Entries of another enclave's chain (its own data dir), a few of them.
    const other = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '10000' }))
    foreign = other.host.entries.slice(0)
    await other.host.stop()
    await host.restartEnclave()
  }, 60_000)
  afterAll(async () => {
    await host?.stop()
  })

  const load = async () => {
    const h = await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    expect(h.ok && (h.result as { phase: string }).phase).toBe('awaiting_state')
    const l = await host.call({ type: 'loadState', snapshot: snap.blob })
    expect(l.ok).toBe(true)
  }
  const assertNotReady = async () => {
    const h = await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    expect(h.ok && (h.result as { phase: string }).phase).toBe('loading')
    const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
  }
  const edit = (text: string, f: (e: Record<string, unknown>) => void) => {
    const e = JSON.parse(text) as Record<string, unknown>
    f(e)
    return JSON.stringify(e)
  }

  it('refuses a gap, an edited entry, another chain, reordered and duplicated entries; stays in loading', async () => {
    await load()
    const cases: [string, string[], string][] = [
      ['gap', [after[0]!, after[2]!, after[3]!], 'audit_resume_gap'],
      ['first entry missing', after.slice(1), 'audit_resume_gap'],
      ['reordered', [after[1]!, after[0]!, after[2]!, after[3]!], 'audit_resume_gap'],
      ['duplicated', [after[0]!, after[0]!, after[1]!], 'audit_resume_gap'],
      // Lower the recorded spend in an earlier entry: the next entry no longer links to it.
      [
        'edited spend',
        [edit(after[0]!, (e) => ((e.ledger as { amount?: string }[]).find((l) => l.amount)!.amount = '1')), ...after.slice(1)],
        'state_invalid',
      ],
      ['edited time', [after[0]!, edit(after[1]!, (e) => (e.time = (e.time as number) - 1)), ...after.slice(2)], 'state_invalid'],
      ['other chain', foreign.slice(0, 3), 'state_invalid'],
      ['other chain, seq renumbered', foreign.map((t, i) => edit(t, (e) => (e.seq = snap.auditSeq + 1 + i))), 'state_invalid'],
      ['not JSON', ['{'], 'state_invalid'],
      ['not an audit entry', [JSON.stringify({ seq: snap.auditSeq + 1 })], 'state_invalid'],
    ]
    for (const [name, entries, code] of cases) {
      const r = await host.call({ type: 'replayEntries', entries })
      expect(`${name}: ${refusalCode(r)}`).toBe(`${name}: ${code}`)
      await assertNotReady()
    }
    // The refusals changed nothing: the honest entries still load and the budget remembers all 4 spends.
    const ok = await host.call({ type: 'replayEntries', entries: after })
    expect(ok.ok).toBe(true)
    const ready = await host.call({ type: 'finishLoad' })
    expect(ready.ok).toBe(true)
    await host.waitAgentFloor()
    const over = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 2001n }) }))
    expect(refusalCode(over)).toBe('policy_daily_cap_exceeded')
    expect(hasSignature(over)).toBe(false)
  })

  /** A made-up entry that links correctly to the snapshot's head: hashing is public, so the host can build one. */
  const fabricate = (base: SealedSnapshot, from: string[], body: Partial<AuditEntry>): string => {
    const headText = from.find((t) => (JSON.parse(t) as AuditEntry).seq === base.auditSeq)!
    const prev = JSON.parse(headText) as AuditEntry & { hash: string }
    const entry: AuditEntry = {
      seq: base.auditSeq + 1,
      prevHash: prev.hash as AuditEntry['prevHash'],
      time: Date.now(),
      event: 'sign_denied',
      wallet,
      agentId: agent.agentId,
      action: null,
      reason: null,
      policy: null,
      verdict: 'deny',
      rule: 'rules.pay-merchant',
      code: 'policy_daily_cap_exceeded',
      signedHash: null,
      requestId: null,
      ledger: [],
      stateVersion: base.version,
      ...body,
    }
    return JSON.stringify({ ...entry, hash: hashCanonicalAuditEntry(entry.prevHash, canonicalJson(entry)) })
  }

  // Fabricated entries link correctly but lack the enclave's per-entry MAC: refused before they are applied.
  it('a fabricated, correctly linked entry carrying an owner-only effect (unfreeze) → refused, the frozen agent stays frozen', async () => {
    // The owner freezes the agent (sealed at once).
    const frozen = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: true })
    expect(frozen.ok).toBe(true)
    const s = host.latestSnapshot()!
    const forged = fabricate(s, host.entries, {
      ledger: [{ type: 'agent_unfrozen', agentId: agent.agentId, at: Date.now() }],
    })
    await host.restartEnclave()
    const { last } = await host.bootstrap({ snapshot: s.blob, entries: [forged] })
    expect(refusalCode(last)).toBe('state_invalid')
    const h = await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    expect(h.ok && (h.result as { phase: string }).phase).toBe('loading')
    const r = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
    expect(refusalCode(r)).toBe('enclave_not_ready')
    expect(hasSignature(r)).toBe(false)
    // Loaded honestly, the agent is still frozen.
    expect((await host.call({ type: 'finishLoad' })).ok).toBe(true)
    await host.waitAgentFloor()
    const still = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
    expect(refusalCode(still)).toBe('agent_frozen')
    expect(hasSignature(still)).toBe(false)
  })

  it('fabricated entries forging an owner approval or a cap-exceeding permit, or posing as an owner event → refused', async () => {
    const s = host.latestSnapshot()!
    const forgeries: Partial<AuditEntry>[] = [
      { ledger: [{ type: 'pending_resolved', pendingId: 'p1', approve: true, at: Date.now() }] },
      {
        ledger: [
          {
            type: 'permit_issued',
            permitId: 'host-permit',
            agentId: agent.agentId,
            chainId: 84532,
            asset: '0x036cbd53842c5426634e7929541ec2318f3dcf7e',
            amount: '1000000000',
            payTo: null,
            host: null,
            expiresAt: Date.now() + 3_600_000,
            exceedCaps: true,
            at: Date.now(),
          },
        ],
      },
      { ledger: [{ type: 'budget_released', permitId: 'x', at: Date.now() }] },
      { event: 'agent_unfrozen', verdict: 'info', rule: null, code: null },
      { event: 'state_loaded', wallet: null, agentId: null, verdict: 'info', rule: null, code: null },
    ]
    for (const body of forgeries) {
      await host.restartEnclave()
      const { last } = await host.bootstrap({ snapshot: s.blob, entries: [fabricate(s, host.entries, body)] })
      expect(refusalCode(last)).toBe('state_invalid')
    }
  })

  // Formerly a known gap: hash links alone let the host append a made-up agent-path entry. Each stored entry now
  // carries HMAC(entryMacKey, hash) made by the enclave, with the key only in the sealed snapshot.
  it('a fabricated agent-path entry (a denial that never happened) is refused', async () => {
    const s = host.latestSnapshot()!
    const at = Date.now()
    const forged = fabricate(s, host.entries, {
      ledger: [
        { type: 'request', agentId: agent.agentId, at },
        { type: 'denial', agentId: agent.agentId, code: 'policy_daily_cap_exceeded', at },
      ],
    })
    await host.restartEnclave()
    const { last } = await host.bootstrap({ snapshot: s.blob, entries: [forged] })
    expect(last.ok).toBe(false)
  })
})
