import { describe, expect, it } from 'vitest'
import { readBody } from './readBody.js'

const res = (body: string | Uint8Array<ArrayBuffer>, type: string) => new Response(body, { headers: { 'content-type': type } })

describe('fetch_paid body: what the LLM gets back', () => {
  it('a short text body is whole, with no note', async () => {
    expect(await readBody(res('{"ok":true}', 'application/json'), 100)).toEqual({ body: '{"ok":true}' })
  })

  it('a large body is cut to maxChars with a note saying how much there was', async () => {
    const r = await readBody(res('x'.repeat(50_000), 'text/plain; charset=utf-8'), 16_000)
    expect(r.body.length).toBe(16_000)
    expect(r.truncated).toBe(true)
    expect(r.note).toBe('body cut to the first 16000 of 50000 characters')
  })

  it('a binary body is described, not dumped', async () => {
    const r = await readBody(res(new Uint8Array(1234), 'image/png'), 16_000)
    expect(r).toEqual({ body: '', note: 'binary body (image/png, 1234 bytes) not shown' })
  })
})
