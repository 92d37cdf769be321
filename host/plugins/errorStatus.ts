/** The HTTP status of an error code: read from THE error-code table (shared/errors/errorCodes.ts). */
export { errorStatus } from '../../shared/errors/errorCodes.js'
