import type { KindSpec } from './KindSpec.js'
import { emptyFacts } from './spendHelpers.js'

/** EIP-191 personal message: off unless allowed; an approval binds the whole message. */
export const rawMessageKind: KindSpec<'raw_message'> = {
  kind: 'raw_message',
  describe: (a) => ('text' in a.message ? `message "${a.message.text.slice(0, 80)}"` : `message of ${a.length} bytes`),
  facts: (a) => ({ ...emptyFacts(null), messageLength: a.length }),
  approvalFree: [],
}
