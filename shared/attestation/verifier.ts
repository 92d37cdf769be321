/**
 * bursar/verifier: check a Nitro attestation document (and the commitment bursar binds into it) with no trust in the
 * host that served it. Entry point of the package export.
 */
export { DEFAULT_MAX_FUTURE_SKEW_MS, verifyAttestation } from './verifyAttestation.js'
export type { VerifiedAttestation, VerifyAttestationOptions } from './verifyAttestation.js'
export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './awsNitroRootG1.js'
export { ATTESTATION_ERROR_CODES, AttestationError } from './AttestationError.js'
export type { AttestationErrorCode } from './AttestationError.js'
export { AttestationUserDataInputsSchema, computeAttestationUserData } from './commitment.js'
export type { AttestationUserDataInputs } from './commitment.js'
