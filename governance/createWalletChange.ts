import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { CREATE_WINDOW_MS, OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { OwnerActView } from '../shared/governance/ownerActView.js'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { StateChange, WalletView } from '../core/state/stateTypes.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

export type CreateWalletChangeParameters = {
  act: Extract<VerifiedOwnerAct, { primaryType: 'CreateWallet' }>
  /**
   * The counts the limits read, for the act's owner, at `pruneBefore` (nonces issued before it are forgotten) and the
   * act's nonce (lowercase): shared/governance/createCounts.ts; governance takes them from the signer's view.
   */
  counts: (pruneBefore: number, nonce: string) => NonNullable<OwnerActView['create']>
  now: number
  /** The shell's key generator (the enclave's CSPRNG), called only once every check passed. */
  newKey: () => { privateKey: Uint8Array; address: `0x${string}` }
}

/**
 * CreateWallet as a pure function: checks the owner's signature binding, the act's freshness, its nonce (once per
 * 20 minutes) and the admission and size limits, and returns the change that adds the wallet.
 */
export function createWalletChange({ act, counts, now, newKey }: CreateWalletChangeParameters) {
  const m = act.message
  if (act.signer.toLowerCase() !== m.owner.toLowerCase()) {
    throw new EnclaveError('owner_signature_invalid', 'CreateWallet must be signed by the owner it names')
  }
  // Safe: the schema bounds issuedAt to [1, MAX_TIME_MS] < 2^53.
  const issuedAt = Number(m.issuedAt)
  if (Math.abs(now - issuedAt) > CREATE_WINDOW_MS) {
    throw new EnclaveError('owner_act_stale', 'CreateWallet issuedAt is outside the 10-minute window; sign a fresh one')
  }
  // Nonces older than two windows are forgotten (the change prunes them): none of them can come back in time.
  const pruneBefore = now - 2 * CREATE_WINDOW_MS
  const nonce = m.nonce.toLowerCase()
  const c = counts(pruneBefore, nonce)
  if (c.nonceUsed) throw new EnclaveError('owner_act_replayed', 'CreateWallet nonce already used')
  checkCreateWallet(c, m.owner)
  const { privateKey, address } = newKey()
  const owner = m.owner as `0x${string}`
  const wallet = { address, privateKey, owner, label: m.label, createdAt: now, ownerSeq: 0, rolledBack: false, agents: new Map(), policies: new Map(), ledger: new SpendLedger() }
  return { type: 'wallet_created', wallet, nonce, issuedAt, pruneBefore } satisfies StateChange
}

/**
 * CreateWallet's admission and bounds, from counts of the enclave's state. SECURITY: admission control is
 * enforced in the enclave (not by the host): only allowlisted owners create wallets.
 */
function checkCreateWallet(c: NonNullable<OwnerActView['create']>, owner: string): void {
  if (c.allowlist && !c.admitted) throw new EnclaveError('owner_not_admitted', `Owner ${owner} may not create wallets in this enclave`)
  checkLimit(c.walletsTotal < OWNER_LIMITS.walletsTotal, 'walletsTotal', `This enclave holds its maximum of ${OWNER_LIMITS.walletsTotal} wallets`)
  checkLimit(c.ownerWallets < OWNER_LIMITS.walletsPerOwner, 'walletsPerOwner', `Owner ${owner} already has ${OWNER_LIMITS.walletsPerOwner} wallets (the maximum)`)
  checkLimit(c.liveNonces < OWNER_LIMITS.createNonces, 'createNonces', 'Too many wallets were created in the last 20 minutes; retry later')
}
