import { bytesToHex, hexToBytes } from 'viem'
import { applyLedgerEvent } from '../core/ledger/applyLedgerEvent.js'
import { SpendLedgerJsonSchema } from '../core/ledger/LedgerEvent.js'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { InfoFields, OwnerShell } from '../core/owner/applyDueHeld.js'
import { type WalletChange, applyWalletChange } from './walletActChange.js'
import type { StateChange, WalletRecord } from '../core/state/stateTypes.js'
import type { AuditEvent } from '../shared/audit/auditEntry.js'
import type { DecisionStep } from '../shared/governance/decisionSchema.js'
import type { WalletJson } from '../shared/governance/ownerActView.js'
import { EnclaveError } from '../shared/errors/EnclaveError.js'

/** A wallet of the view as a record (no private key: governance never holds one). */
export function walletFromJson(w: WalletJson): WalletRecord {
  return { ...w, privateKey: new Uint8Array(0), agents: new Map(w.agents.map((a) => [a.agentId, { ...a, publicKey: hexToBytes(a.publicKey) }])),
    policies: new Map(w.policies.map((p) => [p.agentId, p])), ledger: SpendLedger.fromJSON(SpendLedgerJsonSchema.parse(JSON.parse(w.ledger))) }
}

/**
 * Governance's copy of the one wallet an act reads: the owner-act code runs against it as against the signer's state,
 * and every change and audit entry it makes is recorded, in order, as the decision's steps (the signer applies them).
 */
export class GovernanceSandbox implements OwnerShell<{ snapshot: boolean }> {
  readonly steps: DecisionStep[] = []
  readonly state = { apply: (c: StateChange) => this.apply(c), wallet: (a: string) => this.wallet(a) }
  constructor(private readonly w: WalletRecord | null, private readonly missing: EnclaveError) {}

  wallet(address: string): WalletRecord {
    if (!this.w || this.w.address.toLowerCase() !== address.toLowerCase()) throw this.missing
    return this.w
  }

  appendInfo(_tx: unknown, event: AuditEvent, fields: InfoFields = {}): void {
    this.steps.push({ type: 'audit', event, fields: fields as Extract<DecisionStep, { type: 'audit' }>['fields'] })
  }

  halt(why: string): never {
    throw new EnclaveError('internal_error', why)
  }

  private apply(c: StateChange): void {
    switch (c.type) {
      case 'wallet_changed':
        applyWalletChange(this.wallet(c.wallet), c.change)
        this.steps.push({ type: 'wallet_changed', wallet: c.wallet as `0x${string}`, change: changeJson(c.change) })
        return
      case 'ledger':
        for (const e of c.events) applyLedgerEvent(this.wallet(c.wallet).ledger, e)
        this.steps.push({ type: 'ledger', wallet: c.wallet as `0x${string}`, events: c.events as never })
        return
      case 'owner_seq':
        Object.assign(this.wallet(c.wallet), { ownerSeq: c.ownerSeq, rolledBack: c.rolledBack })
        this.steps.push({ ...c, wallet: c.wallet as `0x${string}` })
        return
      case 'wallet_created': {
        const { owner, label, createdAt } = c.wallet
        this.steps.push({ type: 'wallet_created', owner, label, createdAt, nonce: c.nonce, issuedAt: c.issuedAt, pruneBefore: c.pruneBefore })
        return
      }
      case 'loaded':
      case 'version_bumped':
      case 'wallet_added':
      case 'wallet_dropped':
        throw new EnclaveError('internal_error', `governance makes no ${c.type} change`)
    }
  }
}

/** A WalletChange as JSON: agents' keys as hex, a dropped governance record as null. */
function changeJson(c: WalletChange): Extract<DecisionStep, { type: 'wallet_changed' }>['change'] {
  if (c.type === 'agent_registered') return { type: c.type, agent: { ...c.agent, publicKey: bytesToHex(c.agent.publicKey) } }
  if (c.type === 'governance_set') return { type: c.type, set: Object.fromEntries(Object.entries(c.set).map(([k, v]) => [k, v ?? null])) }
  return c as never
}
