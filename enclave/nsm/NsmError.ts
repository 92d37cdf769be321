import { codedError } from '../../shared/errors/base.js'

export type NsmErrorCode = 'nsm_invalid_request' | 'nsm_error' | 'nsm_bad_response' | 'nsm_unavailable'

/** A failure producing an attestation document (bad request, NSM-reported error, driver or addon missing). */
export const NsmError = codedError<NsmErrorCode>('NsmError')
export type NsmError = InstanceType<typeof NsmError>
