import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export type PaymentsPage = { entries: Array<Record<string, unknown>>; next: number | null }

/**
 * A host on loopback (NOT the real host) that answers every signed `/v1/agent/payments` read with `answer(before)`
 * (`before`: the query's cursor, null on the first read) and counts the reads. The agent's signature is not checked:
 * the attacks using it are on what the SDK does with the answer.
 */
export async function lyingPaymentsHost(answer: (before: number | null, agentId: string) => { entries: unknown[]; next: number | null }) {
  let reads = 0
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => {
      reads++
      const signed = JSON.parse(JSON.parse(text).request) as { agentId: string }
      const before = new URL(req.url!, 'http://x').searchParams.get('before')
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ agentId: signed.agentId, ...answer(before === null ? null : Number(before), signed.agentId) }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reads: () => reads, close: () => server.close() }
}
