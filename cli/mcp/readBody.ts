const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[a-z0-9.+-]*\+(json|xml)))/i

/** rt42: the most of a body read (8 MiB, the SDK's answer bound): an endless body from a merchant was buffered whole before being cut. */
const MAX_BODY_BYTES = 8 * 1024 * 1024

/** A response body as text an LLM can read: cut to `maxChars` with a note; binary bodies are described, not dumped. */
export async function readBody(res: Response, maxChars: number): Promise<{ body: string; truncated?: boolean; note?: string }> {
  const type = res.headers.get('content-type') ?? ''
  const parts: Uint8Array[] = []
  let [size, more] = [0, false]
  for await (const part of res.body ?? []) {
    parts.push(part.subarray(0, MAX_BODY_BYTES - size))
    size = Math.min(size + part.length, MAX_BODY_BYTES)
    if ((more = size === MAX_BODY_BYTES)) break // leaving the loop cancels the stream: the rest is not read
  }
  const bytes = Buffer.concat(parts, size)
  if (type && !TEXTUAL.test(type)) return { body: '', note: `binary body (${type}, ${more ? `more than ${size}` : size} bytes) not shown` }
  const text = new TextDecoder().decode(bytes)
  if (!more && text.length <= maxChars) return { body: text }
  return {
    body: text.slice(0, maxChars),
    truncated: true,
    note: more ? `body cut to the first ${maxChars} characters (more than ${size} bytes sent; the rest was not read)` : `body cut to the first ${maxChars} of ${text.length} characters`,
  }
}
