import type { OwnerActType } from './ownerActTypes.js'

/**
 * The owner acts' names: what the signer checks a governance decision's act against (issue 12 diet36: the signer
 * needs no act's fields — governance verifies the act — so it does not load ownerActTypes.ts, whose OWNER_ACTS
 * table this list must match exactly: the two checks below fail to compile on a name missing here or not there).
 */
export const OWNER_ACT_NAMES = ['CreateWallet', 'RegisterAgent', 'SetPolicy', 'SetWalletPolicy', 'RevokeAgent', 'RevokePolicy', 'FreezeAgent', 'ResolvePending', 'IssuePermit',
  'CreditBudget', 'ReleaseLocked', 'Resync', 'CancelScheduled', 'ExportKey', 'ImportWallet', 'SetApprovalQuorum', 'SetOwners'] as const satisfies readonly OwnerActType[]
const everyAct: [Exclude<OwnerActType, (typeof OWNER_ACT_NAMES)[number]>] extends [never] ? true : never = true
void everyAct

/** Whether `t` names an owner act (the same answer as ownerActTypes.ts isOwnerActType, without its schemas). */
export const isOwnerActName = (t: string): t is OwnerActType => (OWNER_ACT_NAMES as readonly string[]).includes(t)
