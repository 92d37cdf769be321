import { hexToBytes } from 'viem'
import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { sealToX25519 } from '../shared/owner/keyExitCipher.js'
import { ownerActHash } from '../shared/owner/ownerActHash.js'
import { checkLedgerEvents } from '../core/ledger/checkLedgerEvents.js'
import type { WalletView } from '../core/state/stateTypes.js'
import { type ExportPlan, exportKeyPlan } from './exportKeyPlan.js'
import { type LedgerAct, type LedgerActOutcome, ledgerActEvents } from '../core/owner/ledgerActEvents.js'
import { widenings } from './timeLock.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'
import { type WalletActOutcome, isWalletAct, walletActChange } from './walletActChange.js'

export type OwnerActPlan =
  | { kind: 'wallet'; out: WalletActOutcome; policyText: string | null; widens: string[] }
  | { kind: 'ledger'; out: LedgerActOutcome; policyText: null; widens: string[]; act: LedgerAct }
  | { kind: 'exit'; out: ExportPlan; policyText: null; widens: string[] }

/** An exit's recipient must be a usable X25519 key (not of low order), checked before the owners' quorum agrees on it. */
export function checkRecipientKey(hex: string): void {
  try {
    sealToX25519(hexToBytes(hex as `0x${string}`), new Uint8Array(32), 'check')
  } catch (cause) {
    throw new EnclaveError('owner_act_invalid', 'recipientKey is not a usable X25519 public key', { cause })
  }
}

/** What an act on a wallet would change, computed purely from the wallet (a refusal throws; nothing has changed then). */
export function planOwnerAct(wallet: WalletView, act: Exclude<VerifiedOwnerAct, { primaryType: 'CreateWallet' | 'ImportWallet' | 'Resync' }>, policyText: string | undefined, now: number): OwnerActPlan & { agentId: string | null } {
  if (act.primaryType === 'ExportKey') {
    checkRecipientKey(act.message.recipientKey)
    return { kind: 'exit', out: exportKeyPlan(wallet, act, ownerActHash(act.primaryType, act.message), now), policyText: null, agentId: null, widens: [] }
  }
  if (isWalletAct(act)) {
    const out = walletActChange({ wallet, act, policyText, now })
    const text = out.change.type === 'policy_set' || out.change.type === 'wallet_policy_set' ? out.change.policy.json : null
    return { kind: 'wallet', out, policyText: text, agentId: out.agentId, widens: widenings(wallet, out.change, now) }
  }
  const out = ledgerActEvents({ wallet, act, now })
  // SECURITY: validate the events on the ledger first: an act whose effects would be invalid is refused unchanged.
  const checked = checkLedgerEvents(wallet.ledger, out.events)
  if (!checked.ok) throw new EnclaveError('owner_act_invalid', `The act's ledger effect is invalid: ${checked.message}`.slice(0, 200))
  return { kind: 'ledger', out, policyText: null, agentId: out.agentId, widens: [], act }
}
