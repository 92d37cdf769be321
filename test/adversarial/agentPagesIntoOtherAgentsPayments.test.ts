import { randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { beforeAll, describe, expect, it } from 'vitest'
import { readAgentPayments } from '../../agent/agentRead.js'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { MERCHANT, eip3009, paymentPolicy, postSign, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

type Entry = { seq: number; agentId: string; verdict: string }
type Page = { agentId: string; entries: Entry[]; next: number | null; scanned: number; scannedThrough: number }

/**
 * Red team rt40 on audit40 (/v1/agent/payments pages newest first with an unsigned `before` query cursor). Attack, as
 * an agent on a wallet another agent also pays from: walk the cursor (limit 1, every `before` there is, cursors that
 * point at the other agent's entries, at 0, past the newest) to reach the other agent's entries, to get one entry
 * twice or skip one, or to loop; and bend the query (negative, fractional, huge, non-numeric cursors, extra keys) into
 * an error that leaks or a read past the budget. Safe: every page holds only the reader's own entries, the walk
 * returns each of them exactly once in seq-descending order and ends (next null) with `next` always below `before`;
 * malformed cursors are a typed 400 with no entries.
 */
describe('adversarial: an agent pages /v1/agent/payments into another agent\'s entries (audit40)', () => {
  let other: AgentKey
  let wallet: Hex

  const read = async (agent: AgentKey, query: string, limit?: number) => {
    const text = JSON.stringify({ v: 1, agentId: agent.agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'readPayments', ...(limit === undefined ? {} : { limit }) })
    const body = { request: text, signature: sign(null, Buffer.from(text, 'utf8'), ed25519PrivateKeyFromSeed(agent.privateKey)).toString('hex') }
    const res = await fetch(`${s.stack.url}/v1/agent/payments${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, json: (await res.json()) as Page & { code?: string } }
  }

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '5000', rolling24h: '1000000' }))
  beforeAll(async () => {
    wallet = s.wallet
    other = (await setupAgent({ host: s.stack.url, owner: s.owner, wallet, policy: paymentPolicy({ perTx: '5000', rolling24h: '1000000' }) })).agentKey
    // Interleaved: allowed and denied decisions of both agents, so every cursor lands next to the other agent's entries.
    for (let i = 0; i < 6; i++)
      for (const agentKey of [s.agentKey, other])
        await postSign(s.stack.url, signedBody({ agentKey, wallet, operation: eip3009({ wallet, value: i % 3 === 2 ? 9000n : 1000n, to: MERCHANT }) }))
  }, 90_000)

  it('walking the cursor one entry at a time returns each own entry once, newest first, and nothing of the other agent', async () => {
    const mine = (await readAgentPayments({ host: s.stack.url, agentKey: s.agentKey, wallet, limit: 100 })).entries as unknown as Entry[]
    const theirs = (await readAgentPayments({ host: s.stack.url, agentKey: other, wallet, limit: 100 })).entries as unknown as Entry[]
    expect(mine.length).toBeGreaterThanOrEqual(6)
    expect(theirs.length).toBeGreaterThanOrEqual(6)
    expect(mine.every((e) => e.agentId === s.agentKey.agentId)).toBe(true)
    expect(new Set(mine.map((e) => e.seq)).size).toBe(mine.length)

    const walked: number[] = []
    for (let before: number | null = null, pages = 0; ; pages++) {
      expect(pages).toBeLessThanOrEqual(mine.length + 1)
      const r = await read(s.agentKey, before === null ? '' : `?before=${before}`, 1)
      expect(r.status).toBe(200)
      expect(r.json.entries.every((e) => e.agentId === s.agentKey.agentId)).toBe(true)
      walked.push(...r.json.entries.map((e) => e.seq))
      if (r.json.next === null) break
      if (before !== null) expect(r.json.next).toBeLessThan(before)
      before = r.json.next
    }
    expect(walked).toEqual(mine.map((e) => e.seq))

    // Cursors aimed at the other agent's entries, at 0, and past the newest: only own entries below the cursor.
    const top = Math.max(...mine.map((e) => e.seq), ...theirs.map((e) => e.seq))
    for (const before of [...theirs.map((e) => e.seq), ...theirs.map((e) => e.seq + 1), 0, top + 1, Number.MAX_SAFE_INTEGER]) {
      const r = await read(s.agentKey, `?before=${before}`, 100)
      expect(r.status).toBe(200)
      expect(r.json.entries.map((e) => e.seq)).toEqual(mine.filter((e) => e.seq < before).map((e) => e.seq))
      expect(r.json.next).toBeNull()
    }
  }, 90_000)

  it('malformed cursors and extra query keys: a typed 400, no entries, and the read still works after', async () => {
    for (const q of ['?before=-1', '?before=1.5', '?before=1e400', '?before=9007199254740993', '?before=abc', `?before=1&agent=${other.agentId}`, `?wallet=${wallet}`]) {
      const r = await read(s.agentKey, q)
      expect(r.status, q).toBe(400)
      expect(typeof r.json.code, q).toBe('string')
      expect(r.json.entries, q).toBeUndefined()
    }
    expect((await read(s.agentKey, '')).status).toBe(200)
  }, 60_000)
})
