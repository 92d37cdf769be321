import { decode, encode } from 'cborg'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import type { AgentRecord, PolicyRecord, WalletRecord, WalletView } from '../../core/state/stateTypes.js'

/** Plain form of the enclave's state, sealed as one snapshot. */
export type SnapshotState = {
  stateVersion: number
  createdAt: number
  receiptKeyPkcs8: Uint8Array
  auditHead: { seq: number; hash: `0x${string}` } | null
  entryMacKey: Uint8Array
  createNonces: Array<[string, number]>
  wallets: WalletRecord[]
}

/** Serializes state for sealing (CBOR; Maps become arrays; ledger stays JSON text). */
export function encodeSnapshot(s: Omit<SnapshotState, 'wallets'> & { wallets: readonly WalletView[] }): Uint8Array {
  return encode({
    v: 1,
    stateVersion: s.stateVersion,
    createdAt: s.createdAt,
    receiptKeyPkcs8: s.receiptKeyPkcs8,
    auditHead: s.auditHead,
    entryMacKey: s.entryMacKey,
    createNonces: s.createNonces,
    wallets: s.wallets.map((w) => ({
      ...w,
      agents: [...w.agents.values()],
      policies: [...w.policies.values()],
      ledger: JSON.stringify(w.ledger.toJSON()),
    })),
  })
}

/** Parses a decrypted snapshot; any shape error means the blob is not ours. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotState {
  let raw: Record<string, any>
  try {
    raw = decode(bytes) as Record<string, any>
  } catch (cause) {
    throw new EnclaveError('state_invalid', 'Sealed snapshot does not decode', { cause })
  }
  if (raw.v !== 1) throw new EnclaveError('state_invalid', `Unknown snapshot format ${String(raw.v)}`)
  try {
    return {
      stateVersion: raw.stateVersion,
      createdAt: raw.createdAt,
      receiptKeyPkcs8: raw.receiptKeyPkcs8,
      auditHead: raw.auditHead ?? null,
      entryMacKey: raw.entryMacKey,
      createNonces: raw.createNonces,
      wallets: (raw.wallets as any[]).map((w) => ({
        ...w,
        agents: new Map((w.agents as AgentRecord[]).map((a) => [a.agentId, a])),
        policies: new Map((w.policies as PolicyRecord[]).map((p) => [p.agentId, p])),
        ledger: SpendLedger.fromJSON(JSON.parse(w.ledger)),
      })),
    }
  } catch (cause) {
    throw new EnclaveError('state_invalid', 'Sealed snapshot does not decode', { cause })
  }
}
