import type { KindSpec } from './KindSpec.js'
import { emptyFacts } from './spendHelpers.js'

/** Generic EIP-712 typed data: moves nothing bursar can see, so only owner-listed domains may be signed; no end. */
export const typedDataKind: KindSpec<'typed_data'> = {
  describe: (a) => `typed data ${a.primaryType} for ${a.domainName ?? '(no name)'} ${a.verifyingContract ?? ''} on chain ${a.chainId ?? '-'}`,
  facts: (a) => ({
    ...emptyFacts(a.chainId),
    typedData: {
      chainId: a.chainId,
      verifyingContract: a.verifyingContract,
      domainName: a.domainName,
      domainVersion: a.domainVersion,
      primaryType: a.primaryType,
    },
  }),
  approvalFree: [],
}
