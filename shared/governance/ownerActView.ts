import { bytesToHex } from 'viem'
import type { AgentRecord, PolicyRecord, WalletRecord, WalletView } from '../../core/state/stateTypes.js'

/** A wallet as the view carries it: no private key; agents' keys as hex; the ledger as its JSON text. */
export type WalletJson = Omit<WalletRecord, 'privateKey' | 'agents' | 'policies' | 'ledger'> & { agents: Array<Omit<AgentRecord, 'publicKey'> & { publicKey: `0x${string}` }>; policies: PolicyRecord[]; ledger: string }
export type WireError = { code: string; message: string }

/**
 * What governance reads to decide one owner act (docs/trustedClosure.md, "Design: the governance split"): the act as
 * the host sent it (governance verifies the owners' signatures), the signer's clock, and the state the act reads. The
 * signer sends it MACed under the link key (`bursar.gov.view.v1`) and keeps every byte of state itself.
 */
export type OwnerActView = {
  v: 1
  act: { primaryType: string; message: string; signature: string; policy: string | null }
  now: number
  /** gov36: the audit chain this signer writes (`Enclave.auditChain`): a CreateWallet/ImportWallet naming another is refused. */
  auditChain: string
  /** The sealed state's size (growing acts are refused past the soft limit). */
  snapshotBytes: number
  /** The wallet the act names (its unverified `wallet`, or the opened import key's address) and that wallet, or why it is not here. */
  walletAddress: string | null
  wallet: WalletJson | null
  walletError: WireError | null
  /**
   * CreateWallet / ImportWallet of a new key, for the owner and nonce the act names (shared/governance/createCounts.ts):
   * the create nonces live at `now` (issued within two windows) and whether the act's is one, the wallet counts (all,
   * the named owner's) and the named owner's admission.
   */
  create: { liveNonces: number; nonceUsed: boolean; walletsTotal: number; ownerWallets: number; admitted: boolean; allowlist: boolean } | null
  /** ImportWallet: the address of the key the signer opened, or why it did not open. */
  imported: { address: `0x${string}` } | { error: WireError } | null
}

export function walletJson(w: WalletView): WalletJson {
  const { privateKey: _k, agents, policies, ledger, ...rest } = w
  return { ...rest, agents: [...agents.values()].map((a) => ({ ...a, publicKey: bytesToHex(a.publicKey) })), policies: [...policies.values()], ledger: ledger.toJSONText() }
}
