/**
 * TRUST: seals everything the enclave keeps across restarts. The host stores
 * sealed blobs and may return old or foreign ones; `unseal` checks that a
 * blob is authentic and bound to the purpose/wallet asked for, and returns
 * its version so callers can refuse rollback.
 */
export type SealContext = {
  /** What the blob is for, e.g. 'enclave-state'. */
  purpose: string
  /** Wallet the blob belongs to, or '' for enclave-wide blobs. */
  walletId: string
  /** Monotonic version of the blob for this purpose/wallet. */
  version: number
}

export type UnsealParameters = {
  blob: Uint8Array
  purpose: string
  walletId: string
}

export interface Sealer {
  readonly kind: 'sim' | 'kms'
  /** `plaintext` as parts (tail37): sealed as their concatenation, without joining them first. */
  seal(params: SealContext & { plaintext: Uint8Array | Uint8Array[] }): Promise<Uint8Array>
  /** Throws a typed SealError if the blob is not authentic or bound to another purpose/wallet. */
  unseal(params: UnsealParameters): Promise<{ plaintext: Uint8Array; version: number }>
}
