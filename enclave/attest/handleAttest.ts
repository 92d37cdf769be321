import { createHash } from 'node:crypto'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import type { Enclave } from '../Enclave.js'
import { attestedConfigVersion } from '../../shared/owner/parseAdmission.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { importKeyAnnouncement } from '../owner/keyExitShell.js'

/**
 * Produces an attestation document binding the receipt key (public_key), the
 * verifier's nonce, and a commitment (user_data) to the policy set, the audit
 * head, the wallets and the config version. Returns the commitment inputs so
 * a verifier can recompute user_data.
 */
export async function handleAttest(enclave: Enclave, nonce: Uint8Array | null): Promise<HandlerResult<'attest'>> {
  const inputs = attestationInputs(enclave)
  const document = await enclave.params.nsm.attest({
    userData: computeAttestationUserData(inputs),
    nonce: nonce ?? undefined,
    publicKey: enclave.receiptPublicKeyDer,
  })
  return { ok: true, result: { document, userDataInputs: inputs, receiptPublicKey: enclave.receiptPublicKeyHex, auditChain: enclave.audit.id, ...importKeyAnnouncement(enclave) } }
}

/** The commitment inputs: policy-set hash over every (wallet, agent, version, hash) sorted. */
export function attestationInputs(enclave: Enclave) {
  const policies: string[] = []
  for (const w of enclave.state.wallets.values()) {
    for (const p of w.policies.values()) {
      if (!p.revoked) policies.push(`${w.address.toLowerCase()}/${p.agentId}/${p.version}/${p.hash.toLowerCase()}`)
    }
  }
  policies.sort()
  const policySetHash = `0x${createHash('sha256').update(policies.join('\n')).digest('hex')}` as `0x${string}`
  const head = enclave.audit.head()
  return {
    configVersion: attestedConfigVersion(enclave.params.configVersion, enclave.params.admission),
    stateVersion: enclave.state.version,
    policySetHash,
    auditHead: { seq: head.seq, hash: head.hash as `0x${string}` },
    wallets: [...enclave.state.wallets.values()].map((w) => w.address.toLowerCase() as `0x${string}`).sort(),
  }
}
