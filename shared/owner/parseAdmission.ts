import { createHash } from 'node:crypto'
import { EnclaveError } from '../errors/EnclaveError.js'

/**
 * Who may create wallets (finding 2 of issue 13): `open` (anyone, simulation
 * only) or an operator-configured allowlist of owner addresses. Fixed at
 * enclave start and bound into the attested config version, so a verifier
 * sees which admission policy the enclave enforces.
 */
export type Admission = { kind: 'open' | 'allowlist'; owners: ReadonlySet<string>; tag: string }

/** Parses `BURSAR_OWNER_ALLOWLIST` (comma-separated 0x addresses); empty or undefined = open. */
export function parseAdmission(allowlist: string | undefined): Admission {
  const items = (allowlist ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) return { kind: 'open', owners: new Set(), tag: 'admission=open' }
  for (const a of items) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw new EnclaveError('state_invalid', `BURSAR_OWNER_ALLOWLIST entry ${a.slice(0, 50)} is not an address`)
  }
  const owners = new Set(items.map((a) => a.toLowerCase()))
  const digest = createHash('sha256').update([...owners].sort().join(',')).digest('hex')
  return { kind: 'allowlist', owners, tag: `admission=allowlist:${digest.slice(0, 32)}` }
}

/** The config version the attestation commits to: the operator's version plus the admission policy. */
export function attestedConfigVersion(configVersion: string, admission: Admission): string {
  return `${configVersion.slice(0, 64)};${admission.tag}`
}
