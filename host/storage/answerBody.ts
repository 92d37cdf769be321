/**
 * Issue 18 (lat18b): a signature's answer body ends with its own audit entry as hashed (`,"auditEntry":{…}}`: the
 * gateway's withAuditEntry), which is that entry's stored text without the `hash` and `mac` the enclave appends —
 * ~1.5 of the answer's ~2.2 KB, stored twice. SqliteStore keeps only the rest (the head) when the body is exactly
 * head + that entry as hashed + `}` (checked on write against the stored entry text), and rebuilds it on read: one
 * 4 KB page per answer became ~5 answers per page (fewer WAL frames per commit). Anything else is stored whole.
 */
const KEY = ',"auditEntry":'

/** The entry as hashed: its stored text without the `,"hash":"…","mac":"…"` the enclave appends (null: no such tail). */
function hashedText(entryText: string): string | null {
  const k = entryText.lastIndexOf(',"hash":"')
  return k < 0 ? null : `${entryText.slice(0, k)}}`
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
