import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { type CheckpointRow, expandAnswerBody, pasteCheckpoint } from '../../host/storage/answerBody.js'
import { hashAuditEntry } from '../../shared/audit/hashAuditEntry.js'
import { eip3009, paymentPolicy, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Issue 18 (cpu18) red team (rt32b): the agent route now sends a decided answer as the JSON text the gateway stored for
 * it (`answerText`), not a second serialization of the object. Attack: an answer whose bytes on the wire differ from
 * the stored answer (what a resend gets) or whose `auditEntry` is not the hashed entry the receipt names — with agent
 * text chosen to serialize differently (a lone surrogate, quotes, U+2028, a `__proto__` look-alike in the reason and
 * resource URL). The first answer's bytes, the stored body and a resend's bytes must be the same JSON; the entry in it
 * must hash to the receipt's entryHash and carry the agent's text exactly. lat18b: the stored row keeps the body without
 * the entry it repeats (rebuilt from the stored entry on read), so a resend's bytes also check that rebuild.
 */
describe('adversarial: answer text vs the stored answer and the receipt (cpu18 answerText)', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }))

  const post = async (body: unknown) => {
    const res = await fetch(`${s.stack.url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
  }

  it('first answer bytes = stored body, a resend gets the same JSON; its auditEntry hashes to the receipt and keeps the agent text', async () => {
    const reason = '\ud800 "},"hash":"0x00" \u2028 __proto__ é'
    const resourceUrl = 'https://m.example/\udfff?"__proto__"'
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }), extra: { context: { reason, resourceUrl } } })
    const first = await post(body)
    expect(first, first.text).toMatchObject({ status: 200 })
    expect(first.type).toMatch(/^application\/json/)
    const answer = JSON.parse(first.text) as { signature: string; receipt: { seq: number; entryHash: string }; auditEntry: AuditEntry }
    expect(answer.signature).toMatch(/^0x[0-9a-f]{130}$/)
    expect(answer.auditEntry.seq).toBe(answer.receipt.seq)
    expect(hashAuditEntry(answer.auditEntry)).toBe(answer.receipt.entryHash)
    expect([answer.auditEntry.reason, answer.auditEntry.resourceUrl]).toEqual([reason, resourceUrl])

    const nonce = (JSON.parse(body.request) as { nonce: string }).nonce
    const db = new Database(path.join(s.stack.dataDir, 'bursar.db'), { readonly: true })
    try {
      const stored = db.prepare('SELECT status, body_or_head AS body, entry_chain AS entryChain, checkpoint_at AS checkpointAt FROM agent_answers WHERE agent_id = ? AND nonce = ?').get(s.agentKey.agentId, nonce) as { status: number; body: string; entryChain: string | null; checkpointAt: number | null }
      const entry = db.prepare('SELECT body FROM audit_entries WHERE seq = ?').pluck().get(answer.receipt.seq) as string
      const checkpoint = db.prepare("SELECT seq, head, time, signature FROM audit_checkpoints WHERE chain = '' AND seq = ?").get(answer.receipt.seq) as CheckpointRow
      // lat18b: the row keeps the body without the audit entry it repeats (answerBody.ts); host35: nor its receipt's
      // checkpoint (the audit_checkpoints row); with both pasted back, the same bytes.
      expect(stored.entryChain).toBe('')
      expect(stored.checkpointAt).not.toBeNull()
      expect(stored.body).not.toContain(checkpoint.signature)
      expect(stored.body.length).toBeLessThan(first.text.length - entry.length / 2 - checkpoint.signature.length)
      expect({ status: stored.status, body: expandAnswerBody(pasteCheckpoint(stored.body, stored.checkpointAt!, checkpoint), entry) }).toEqual({ status: 200, body: first.text })
      const { hash, mac: _mac, ...storedEntry } = JSON.parse(entry) as AuditEntry & { hash: string; mac: string }
      expect(hash).toBe(answer.receipt.entryHash)
      expect(storedEntry).toEqual(answer.auditEntry)
    } finally {
      db.close()
    }

    const again = await post(body)
    expect(again.status).toBe(200)
    expect(JSON.parse(again.text)).toEqual(answer)
    expect(again.text).toBe(first.text) // the stored text re-serialized: JSON.stringify(JSON.parse(t)) === t for JSON it wrote
  }, 60_000)
})
