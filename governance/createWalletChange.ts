import { EnclaveError } from '../shared/errors/EnclaveError.js'
import { OWNER_LIMITS, checkLimit } from '../shared/owner/ownerLimits.js'
import type { Admission } from '../shared/owner/parseAdmission.js'
import { SpendLedger } from '../core/ledger/SpendLedger.js'
import type { StateChange, WalletView } from '../core/state/stateTypes.js'
import type { VerifiedOwnerAct } from './verifyOwnerAct.js'

const CREATE_WINDOW_MS = 10 * 60_000

export type CreateWalletChangeParameters = {
  act: Extract<VerifiedOwnerAct, { primaryType: 'CreateWallet' }>
  /** The enclave's wallets (only their owners are read: the per-owner and total limits). */
  wallets: { values(): Iterable<{ owner: string }> }
  createNonces: ReadonlyMap<string, number>
  admission: Admission
  now: number
  /** The shell's key generator (the enclave's CSPRNG), called only once every check passed. */
  newKey: () => { privateKey: Uint8Array; address: `0x${string}` }
}

/**
 * CreateWallet as a pure function: checks the owner's signature binding, the act's freshness, its nonce (once per
 * 20 minutes) and the admission and size limits, and returns the change that adds the wallet.
 */
export function createWalletChange({ act, wallets, createNonces, admission, now, newKey }: CreateWalletChangeParameters) {
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
  const live = [...createNonces].filter(([, t]) => t >= pruneBefore)
  if (live.some(([n]) => n === nonce)) throw new EnclaveError('owner_act_replayed', 'CreateWallet nonce already used')
  const owners = [...wallets.values()].map((w) => w.owner)
  checkCreateWallet({ admission, owner: m.owner, owners, createNonces: live.length })
  const { privateKey, address } = newKey()
  const owner = m.owner as `0x${string}`
  const wallet = { address, privateKey, owner, label: m.label, createdAt: now, ownerSeq: 0, rolledBack: false, agents: new Map(), policies: new Map(), ledger: new SpendLedger() }
  return { type: 'wallet_created', wallet, nonce, issuedAt, pruneBefore } satisfies StateChange
}

/**
 * CreateWallet's admission and bounds, from counts of the enclave's state. SECURITY: admission control is
 * enforced in the enclave (not by the host): only allowlisted owners create wallets.
 */
function checkCreateWallet(p: { admission: Admission; owner: string; owners: Iterable<string>; createNonces: number }): void {
  if (p.admission.kind === 'allowlist' && !p.admission.owners.has(p.owner.toLowerCase())) {
    throw new EnclaveError('owner_not_admitted', `Owner ${p.owner} may not create wallets in this enclave`)
  }
  const owners = [...p.owners]
  const mine = owners.filter((o) => o.toLowerCase() === p.owner.toLowerCase()).length
  checkLimit(owners.length < OWNER_LIMITS.walletsTotal, 'walletsTotal', `This enclave holds its maximum of ${OWNER_LIMITS.walletsTotal} wallets`)
  checkLimit(mine < OWNER_LIMITS.walletsPerOwner, 'walletsPerOwner', `Owner ${p.owner} already has ${OWNER_LIMITS.walletsPerOwner} wallets (the maximum)`)
  checkLimit(p.createNonces < OWNER_LIMITS.createNonces, 'createNonces', 'Too many wallets were created in the last 20 minutes; retry later')
}
