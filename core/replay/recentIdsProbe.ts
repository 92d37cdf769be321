import type { RecentIds } from './RecentIds.js'

type Columns = { index: Map<string, number>; seqCol: number[]; walletCol: number[]; walletNames: string[]; slotOf(key: string): number | undefined }

/**
 * Reads of a RecentIds that only tests and benches make (diet37: they left the trusted closure, the signer never made
 * them): how many ids, whether one is remembered and the audit entry (seq, wallet lower-cased) that
 * decided it. They read the private columns: a change of that layout fails the tests that use them.
 */
export function probeIds(ids: RecentIds) {
  const c = ids as unknown as Columns
  return {
    get size(): number {
      return c.index.size
    },
    has: (key: string): boolean => ids.timeOf(key) !== undefined,
    entryOf: (key: string): [number, string] | undefined => {
      const s = c.slotOf(key)
      return s === undefined || c.walletCol[s]! < 0 ? undefined : [c.seqCol[s]!, c.walletNames[c.walletCol[s]!]!]
    },
  }
}
