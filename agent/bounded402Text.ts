import { AGENT_ERROR_CODES, BursarRequestError } from './errors.js'
import { boundedText } from './postSignedRequest.js'

/**
 * rt42: a merchant's 402 body, at most 8 MiB (boundedText); past it, or cut off, `response_invalid` and nothing is
 * signed. @x402/fetch and the MCP tools read a 402 whole (even when the requirements are in the PAYMENT-REQUIRED
 * header): an endless body grew the agent's memory until it died.
 */
export async function bounded402Text(res: Response): Promise<string> {
  const text = await boundedText(res)
  if (text === null) throw new BursarRequestError(AGENT_ERROR_CODES.response_invalid, "the merchant's 402 answer is longer than 8 MiB (or did not arrive whole): not read, nothing signed")
  return text
}
