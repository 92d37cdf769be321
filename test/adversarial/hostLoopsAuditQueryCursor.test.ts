import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { runAuditQuery } from '../../cli/commands/audit.js'

type Page = { entries: unknown[]; next: number | null }

/** A host on loopback (NOT the real host) answering every `/v1/audit/entries` read with `answer(after)`; counts reads. */
async function lyingHost(answer: (after: number, reads: number) => Page) {
  let reads = 0
  const server = createServer((req, res) => {
    reads++
    const after = Number(new URL(req.url!, 'http://x').searchParams.get('after'))
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ scope: 'all', checkpoints: [], ...answer(after, reads) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reads: () => reads, close: () => server.close() }
}

/**
 * Attack (rt41, the paging bound limits41 gave the agent SDK, on the owner's CLI): `bursar audit query` followed the
 * host's `next` while it was not null, never checking that it moved. A lying host answering an empty page whose
 * `next` is the cursor it was asked (or one behind it) kept the CLI reading the same page forever, one request each
 * (the read token re-sent every time), the command never returning. Safe behaviour: a `next` that is not past the
 * cursor ends the query with exit 2 (query failed, as a host's HTTP error) and says so, after that one read; an honest host's empty pages whose `next` moves
 * (audit39: its row budget ran out) are still followed to the entries after them.
 * The lying host gives up after 1,000 reads (next: null), so the unfixed CLI returns and the count shows the loop.
 */
describe('adversarial: a host loops bursar audit query on its cursor (rt41)', () => {
  for (const [name, step] of [['the same cursor', 0], ['a cursor behind', -1]] as const) {
    it(`empty pages whose next is ${name}: exit 2 (the query failed) after one read`, async () => {
      const host = await lyingHost((after, reads) => ({ entries: [], next: reads >= 1_000 ? null : after + step }))
      try {
        const r = await runAuditQuery({ host: host.url, token: 'op', json: true })
        expect([r.exitCode, host.reads()]).toEqual([2, 1])
        expect(r.stderr).toMatch(/cursor did not move/)
      } finally {
        host.close()
      }
    })
  }

  it('honest: empty pages whose next moves are followed to the entries after them', async () => {
    const entry = { seq: 2_500, v: 1 }
    const host = await lyingHost((after) => (after < 2_000 ? { entries: [], next: after + 1_000 } : { entries: [entry], next: null }))
    try {
      const r = await runAuditQuery({ host: host.url, token: 'op', json: true })
      expect(r.exitCode).toBe(0)
      expect(JSON.parse(r.stdout).entries).toEqual([entry])
      expect(host.reads()).toBe(4)
    } finally {
      host.close()
    }
  })
})
