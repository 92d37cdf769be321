import type { AuditCheckpoint, AuditEntry } from './auditEntry.js'

/**
 * chains41: the field the host adds beside each served entry of a chain other than the root on an audit page
 * (`/v1/audit/entries`): that chain's id. Like `hash` (the host's record of the entry hash) it is the host's word,
 * outside the entry: no entry can carry it (AuditEntrySchema is strict), so it is removed before anything is hashed
 * or parsed and can neither change an entry's hash nor be forged into one. The root chain's entries carry none (an
 * entry without it, e.g. from a host before chains41, is of the root chain). Untrusted: verifyAuditSlice checks each
 * chain's entries by that chain's links and checkpoints, so a wrong label breaks them (docs/audit.md "Querying").
 */
export const AUDIT_CHAIN_LABEL = 'auditChain'

/** An entry as an audit page serves it: the entry and what the host adds beside it. */
export type ServedAuditEntry = AuditEntry & { hash?: string; mac?: string; type?: string; auditChain?: string }

/**
 * A page's served entries split into what verifiers take: the entries as hashed (without `hash`, the host's record;
 * `mac`, the enclave's private replay authenticator; `type`, an export line's kind; `auditChain`, the chain label),
 * the recorded hashes and the chain labels ('' = the root; unchecked: verifyAuditSlice refuses one that is not a chain
 * id), each at the entry's index.
 */
export function splitServedEntries(served: readonly ServedAuditEntry[]): { entries: AuditEntry[]; hashes: (string | undefined)[]; chains: string[] } {
  const entries: AuditEntry[] = []
  const hashes: (string | undefined)[] = []
  const chains: string[] = []
  for (const { hash, mac: _m, type: _t, auditChain, ...entry } of served) {
    entries.push(entry as AuditEntry)
    hashes.push(hash)
    // A label that is not a string stays visibly wrong (its JSON), never a chain id: verifiers refuse it.
    chains.push(auditChain === undefined ? '' : typeof auditChain === 'string' ? auditChain : String(JSON.stringify(auditChain)))
  }
  return { entries, hashes, chains }
}

/**
 * chains41: a whole log read from audit pages (every page from the start, operator scope) as verifyAuditLog takes an
 * export: the root chain's entries and checkpoints, and each other chain's (by its label; a checkpoint by its signed
 * `chain`) in the order they first appear.
 */
export function byChain(entries: readonly AuditEntry[], hashes: readonly (string | undefined)[], chains: readonly string[], checkpoints: readonly AuditCheckpoint[]) {
  const groups = new Map<string, { chain: string; entries: AuditEntry[]; hashes: (string | undefined)[]; checkpoints: AuditCheckpoint[] }>()
  const group = (chain: string) => groups.get(chain) ?? groups.set(chain, { chain, entries: [], hashes: [], checkpoints: [] }).get(chain)!
  group('')
  entries.forEach((e, i) => {
    const g = group(chains[i] ?? '')
    g.entries.push(e)
    g.hashes.push(hashes[i])
  })
  for (const c of checkpoints) group(c.chain ?? '').checkpoints.push(c)
  const { entries: rootEntries, hashes: rootHashes, checkpoints: rootCheckpoints } = groups.get('')!
  return { entries: rootEntries, hashes: rootHashes, checkpoints: rootCheckpoints, chains: [...groups.values()].filter((g) => g.chain !== '') }
}
