import type { Persist } from '../../shared/protocol/messages.js'

/** Each block's entries as parsed so far (index → object), so the gateway and the store parse each entry text once. */
const parsed = new WeakMap<Persist, Array<Record<string, unknown> | undefined>>()

/**
 * Issue 18 (cpu18): `JSON.parse(p.entries[i])`, once per block and index (the gateway reads the answer's own entry and
 * the block's last seq, the store every entry). Throws as JSON.parse does, where it is first asked. Never mutate it.
 */
export function parsedEntry(p: Persist, i: number): Record<string, unknown> {
  let arr = parsed.get(p)
  if (!arr) parsed.set(p, (arr = []))
  return (arr[i] ??= JSON.parse(p.entries[i]!) as Record<string, unknown>)
}
