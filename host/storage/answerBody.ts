/**
 * Issue 18 (lat18b): a signature's answer body ends with its own audit entry as hashed (`,"auditEntry":{…}}`: the
 * gateway's withAuditEntry), which is that entry's stored text without the `hash` and `mac` the enclave appends —
 * ~1.5 of the answer's ~2.2 KB, stored twice. SqliteStore keeps only the rest (the head) when the body is exactly
 * head + that entry as hashed + `}` (checked on write against the stored entry text), and rebuilds it on read: one
 * 4 KB page per answer became ~5 answers per page (fewer WAL frames per commit). Anything else is stored whole.
 */
const KEY = ',"auditEntry":'

/** The entry as hashed: its stored text without the `,"hash":"…","mac":"…"` the enclave appends (null: no such tail). */
export function hashedText(entryText: string): string | null {
  const k = entryText.lastIndexOf(',"hash":"')
  return k < 0 ? null : `${entryText.slice(0, k)}}`
}

/** hashedText(entryText)'s length without building it (-1: no such tail). */
export function hashedLength(entryText: string): number {
  const k = entryText.lastIndexOf(',"hash":"')
  return k < 0 ? -1 : k + 1
}

/** The head to store instead of `body`, or null (store it whole): expandAnswerBody(head, entryText) === body. */
export function compactAnswerBody(body: string, entryText: string): string | null {
  const h = hashedText(entryText)
  if (h === null) return null
  const tail = `${KEY}${h}}`
  return body.length > tail.length && body.endsWith(tail) ? body.slice(0, body.length - tail.length + KEY.length) : null
}

/** The answer body a head stood for, from its entry's stored text (the one compactAnswerBody was given). */
export function expandAnswerBody(head: string, entryText: string): string {
  return `${head}${hashedText(entryText)}}`
}

/**
 * Issue 18 (host35, SQLite migration 8): the receipt's checkpoint (~450 B with a turn path) is also its
 * `audit_checkpoints` row, stored first-wins in the same transaction: the head keeps neither, only where it was (`at`,
 * a character offset in the head), and the read pastes the row back. The cut is made only when the head holds the
 * row's text exactly once, so pasting it back gives the same bytes; anything else keeps its checkpoint.
 */
export type CheckpointRow = { seq: number; head: string; time: number; signature: string }
const CP_KEY = '"checkpoint":'
/** The row as the answer's JSON spells it (the receipt's checkpoint keys in the schema's order). */
const checkpointJson = (c: CheckpointRow): string => JSON.stringify({ seq: c.seq, head: c.head, time: c.time, signature: c.signature })

/** The head without the row's checkpoint and where it was, or null (keep the head as it is). */
export function cutCheckpoint(head: string, c: CheckpointRow): { head: string; at: number } | null {
  const text = `${CP_KEY}${checkpointJson(c)}`
  const i = head.indexOf(text)
  if (i < 0 || head.indexOf(text, i + 1) >= 0) return null
  const at = i + CP_KEY.length
  return { head: `${head.slice(0, at)}${head.slice(i + text.length)}`, at }
}

/** The head cutCheckpoint was given, from its result and the same row. */
export function pasteCheckpoint(head: string, at: number, c: CheckpointRow): string {
  return `${head.slice(0, at)}${checkpointJson(c)}${head.slice(at)}`
}
