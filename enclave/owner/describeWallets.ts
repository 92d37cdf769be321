import type { WalletInfo } from '../../shared/protocol/messages.js'
import type { Enclave } from '../Enclave.js'
import { describeLedger } from './ledgerOps.js'

/** Public view of every wallet (no key material): what owners and the dashboard read. */
export function describeWallets(enclave: Enclave): WalletInfo[] {
  return [...enclave.wallets.values()].map((w) => {
    const ledger = describeLedger(w)
    return {
      address: w.address,
      owner: w.owner,
      label: w.label,
      ownerSeq: w.ownerSeq,
      rolledBack: w.rolledBack,
      createdAt: w.createdAt,
      agents: [...w.agents.values()].map((a) => {
        const p = w.policies.get(a.agentId)
        return {
          agentId: a.agentId,
          label: a.label,
          status: a.status,
          frozen: ledger.frozen.includes(a.agentId),
          policy: p && !p.revoked ? { version: p.version, hash: p.hash, json: p.json } : null,
        }
      }),
      pending: ledger.pending,
      permits: ledger.permits,
    }
  })
}
