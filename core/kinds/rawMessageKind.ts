import type { KindSpec } from './KindSpec.js'
import { emptyFacts } from './spendHelpers.js'

/** EIP-191 personal message: off unless allowed; an approval binds the whole message. */
export const rawMessageKind: KindSpec<'raw_message'> = {
  // The cut never splits a surrogate pair (a lone half would not survive transport to the owner).
  describe: (a) => ('text' in a.message ? `message "${a.message.text.slice(0, /[\uD800-\uDBFF]/.test(a.message.text[79] ?? '') ? 79 : 80)}"` : `message of ${a.length} bytes`),
  facts: (a) => ({ ...emptyFacts(null), messageLength: a.length }),
  approvalFree: [],
}
