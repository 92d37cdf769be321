import { type AuditEntry, AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { timingSafeEqual } from 'node:crypto'
import { hashCanonicalAuditEntry } from '../../shared/audit/hashCanonicalAuditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { applyEvents } from '../owner/ledgerOps.js'

/** Marks entries written by owner acts: these are always followed by a snapshot. */
import { OWNER_RULE } from '../../core/owner/applyDueHeld.js'

/**
 * Only agent requests write entries that a snapshot may not cover yet; every
 * other event (owner acts, load) is sealed in the same step. Replayed entries
 * carry a MAC only this enclave can make; these allowlists are a second line:
 * no replayed entry may carry owner-only ledger effects (approvals, permits,
 * unfreezes, releases).
 */
const REPLAYABLE_EVENTS: ReadonlySet<string> = new Set(['sign_allowed', 'sign_denied', 'sign_pending'])
const AGENT_LEDGER_EVENTS: ReadonlySet<string> = new Set(['request', 'denial', 'spend', 'pending_created', 'pending_used', 'permit_used', 'agent_frozen', 'channel'])

/**
 * Re-applies entries recorded after the snapshot. SECURITY: the chain must
 * continue the snapshot's head exactly (no gap, no fork), and an owner-act
 * entry after the snapshot proves the host handed us an older snapshot.
 * Every refusal is typed and leaves the enclave in 'loading' (F2); one that
 * comes after the chain moved on marks the load broken: only a new loadState
 * (a restart of the load) continues, so no half-replayed state goes ready.
 */
export async function replayEntries(enclave: Enclave, texts: string[]): Promise<HandlerResult<'replayEntries'>> {
  refuseIfBroken(enclave)
  const entries = parseReplayed(enclave, texts)
  enclave.audit.resumeFrom(entries)
  enclave.markLoadBroken(true)
  for (const e of entries) {
    // The replay state travels with the log: a resend of a request decided before this load is refused here too. Every
    // entry from the core's head, applied or not: a staggered core leaves out the ids the log gives back (issue 18).
    if (e.agentId && e.requestId && REPLAYABLE_EVENTS.has(e.event)) enclave.replay.remember(`${e.agentId}:${e.requestId}`, e.time, e.wallet ? [e.seq, e.wallet] : undefined)
    // Issue 18: an entry before the core's seal whose wallet's blob (or, wallet-less, the core) holds it: chain only.
    if (enclave.replayCovers(e)) continue
    checkReplayable(e)
    if (e.ledger.length > 0 && e.wallet) applyEvents(enclave, enclave.wallet(e.wallet), e.ledger)
  }
  enclave.markLoadBroken(false)
  return { ok: true, result: enclave.headResult() }
}

/** Schema-parses stored entry texts and checks each one's MAC (replayEntries, loadWallet). */
export function parseReplayed(enclave: Enclave, texts: string[]): AuditEntry[] {
  const entries: AuditEntry[] = []
  for (const text of texts) {
    let parsed: unknown
    let mac: unknown
    try {
      const { hash: _hash, mac: m, ...body } = JSON.parse(text) as Record<string, unknown>
      parsed = body
      mac = m
    } catch {
      throw new EnclaveError('state_invalid', 'Replayed entry is not JSON')
    }
    const r = AuditEntrySchema.safeParse(parsed)
    if (!r.success) throw new EnclaveError('state_invalid', 'Replayed entry does not match the audit schema')
    // SECURITY: the host can compute hash links itself, not this MAC: only entries this enclave wrote replay.
    const hash = hashCanonicalAuditEntry(r.data.prevHash, canonicalJson(r.data))
    const expected = Buffer.from(enclave.entryMac(hash), 'hex')
    const got = typeof mac === 'string' && /^[0-9a-f]{64}$/.test(mac) ? Buffer.from(mac, 'hex') : Buffer.alloc(32)
    if (!timingSafeEqual(expected, got)) {
      throw new EnclaveError('state_invalid', `Replayed entry ${r.data.seq} was not written by this enclave`)
    }
    entries.push(r.data)
  }
  return entries
}

/** SECURITY: what may follow a sealed state: agent decisions only (an owner act after it proves an older one). */
export function checkReplayable(e: AuditEntry): void {
  if (e.rule === OWNER_RULE) {
    throw new EnclaveError('state_rollback_detected', `Owner act at seq ${e.seq} is newer than the snapshot: an older snapshot`)
  }
  // SECURITY: anything but an agent decision after the snapshot is a rollback or a forged entry.
  if (!REPLAYABLE_EVENTS.has(e.event)) throw new EnclaveError('state_invalid', `A ${e.event.slice(0, 40)} entry at seq ${e.seq} cannot follow the snapshot`)
  for (const l of e.ledger) {
    const type = (l as { type?: unknown } | null)?.type
    if (typeof type !== 'string' || !AGENT_LEDGER_EVENTS.has(type)) {
      throw new EnclaveError('state_invalid', `Replayed entry at seq ${e.seq} carries a ledger event no agent request writes`)
    }
  }
}

/** Ends loading: records the start in the audit chain, seals a snapshot, and opens for requests. */
export async function finishLoad(enclave: Enclave): Promise<HandlerResult<'finishLoad'>> {
  refuseIfBroken(enclave)
  // Issue 18: a wallet sealed before the core is rebuilt from entries up to the core's seal; a log that stops short forgets its spends.
  if (enclave.audit.head().seq < enclave.covered.sealedSeq) throw new EnclaveError('state_rollback_detected', `The replayed entries stop at ${enclave.audit.head().seq}, before the snapshot's seal at ${enclave.covered.sealedSeq}`)
  enclave.releaseOrder.reset(enclave.audit.head().seq + 1)
  const tx = enclave.beginTx()
  tx.snapshot = true
  // Issue 15 step 4: a new chain's seq 0 is chain_started (AuditChain adds its chain and core id).
  enclave.appendInfo(tx, enclave.audit.chain && enclave.audit.head().seq < 0 ? 'chain_started' : enclave.isFresh ? 'enclave_started' : 'state_loaded')
  const persist = await enclave.finishTx(tx)
  enclave.transition('ready')
  return { ok: true, result: enclave.readyResult(), persist }
}

function refuseIfBroken(enclave: Enclave): void {
  if (enclave.loadBroken) throw new EnclaveError('state_invalid', 'This load was refused: restart it with loadState')
}
