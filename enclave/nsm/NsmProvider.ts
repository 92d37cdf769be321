/**
 * TRUST: the enclave's only source of attestation documents. Two
 * implementations: nitroNsm.ts (real /dev/nsm, production entrypoint only)
 * and mockNsm.ts (simulation entrypoint only, signs with a simulation PKI).
 */
export type AttestParameters = {
  /** ≤ 512 bytes; bursar puts its commitment here. */
  userData?: Uint8Array | undefined
  /** ≤ 512 bytes; the verifier's challenge. */
  nonce?: Uint8Array | undefined
  /** ≤ 1024 bytes; DER SPKI of the key the verifier will rely on. */
  publicKey?: Uint8Array | undefined
}

export interface NsmProvider {
  readonly kind: 'nitro' | 'mock'
  /** Returns a COSE_Sign1 attestation document (untagged, as the real NSM). */
  attest(params: AttestParameters): Promise<Uint8Array>
}
