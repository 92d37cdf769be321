import { BaseError } from '../shared/errors/base.js'

/** The first typed bursar error in an error's cause chain (x402 and MCP layers wrap signer errors in plain Errors). */
export function findBaseError(err: unknown): BaseError | undefined {
  let e: unknown = err
  for (let i = 0; i < 8 && e instanceof Error; i++, e = e.cause) if (e instanceof BaseError) return e
  return undefined
}
