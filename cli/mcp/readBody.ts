const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[a-z0-9.+-]*\+(json|xml)))/i

/** A response body as text an LLM can read: cut to `maxChars` with a note; binary bodies are described, not dumped. */
export async function readBody(res: Response, maxChars: number): Promise<{ body: string; truncated?: boolean; note?: string }> {
  const type = res.headers.get('content-type') ?? ''
  const bytes = new Uint8Array(await res.arrayBuffer())
  if (type && !TEXTUAL.test(type)) return { body: '', note: `binary body (${type}, ${bytes.length} bytes) not shown` }
  const text = new TextDecoder().decode(bytes)
  if (text.length <= maxChars) return { body: text }
  return {
    body: text.slice(0, maxChars),
    truncated: true,
    note: `body cut to the first ${maxChars} of ${text.length} characters`,
  }
}
