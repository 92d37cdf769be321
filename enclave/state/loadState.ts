import { type AuditEntry, AuditEntrySchema } from '../../shared/audit/auditEntry.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import type { Enclave } from '../Enclave.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { replayLedgerEvents } from '../owner/ledgerOps.js'

/** Marks entries written by owner acts: these are always followed by a snapshot. */
export const OWNER_RULE = 'owner_act'

/**
 * Re-applies entries recorded after the snapshot. SECURITY: the chain must
 * continue the snapshot's head exactly (no gap, no fork), and an owner-act
 * entry after the snapshot proves the host handed us an older snapshot.
 */
export async function replayEntries(enclave: Enclave, texts: string[]): Promise<HandlerResult> {
  const entries: AuditEntry[] = []
  for (const text of texts) {
    let parsed: unknown
    try {
      const { hash: _hash, ...body } = JSON.parse(text) as Record<string, unknown>
      parsed = body
    } catch {
      throw new EnclaveError('state_invalid', 'Replayed entry is not JSON')
    }
    const r = AuditEntrySchema.safeParse(parsed)
    if (!r.success) throw new EnclaveError('state_invalid', 'Replayed entry does not match the audit schema')
    entries.push(r.data)
  }
  enclave.audit.resumeFrom(entries)
  for (const e of entries) {
    if (e.rule === OWNER_RULE) {
      enclave.halt(`owner act at seq ${e.seq} is newer than the snapshot: rollback`)
    }
    if (e.ledger.length > 0 && e.wallet) replayLedgerEvents(enclave, enclave.wallet(e.wallet), e.ledger)
  }
  const head = enclave.audit.head()
  return { ok: true, result: { stateVersion: enclave.stateVersion, auditHead: head.seq >= 0 ? head : null } }
}

/** Ends loading: records the start in the audit chain, seals a snapshot, and opens for requests. */
export async function finishLoad(enclave: Enclave): Promise<HandlerResult> {
  const tx = enclave.beginTx()
  tx.snapshot = true
  enclave.appendEntry(tx, {
    event: enclave.isFresh ? 'enclave_started' : 'state_loaded',
    wallet: null,
    agentId: null,
    action: null,
    reason: null,
    policy: null,
    verdict: 'info',
    rule: null,
    code: null,
    signedHash: null,
    requestId: null,
    ledger: [],
  })
  const persist = await enclave.finishTx(tx)
  enclave.transition('ready')
  const head = enclave.audit.head()
  return {
    ok: true,
    result: {
      phase: 'ready',
      stateVersion: enclave.stateVersion,
      auditHead: head.seq >= 0 ? head : null,
      receiptPublicKey: enclave.receiptPublicKeyHex,
      wallets: enclave.wallets.size,
    },
    persist,
  }
}
