import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { waitFor } from '../../scripts/lib/startStack.js'
import { eip3009, paymentPolicy, postSign, type SignedBody, signedBody } from '../helpers/agentClient.js'
import { type ClusterWithAgent, clusterWithAgent, storedEntries } from '../helpers/cluster.js'
import { releasePostgres } from '../helpers/postgres.js'

const AMOUNT = 1_000n
const CAP = 6

/**
 * Attack (issue 15): the pair holding the wallet group's lease decided a request, then died; a new pair took the
 * lease. A resend of those exact bytes must get the first answer and be counted once. The honest path is the shared
 * store (`agent_answers`). A malicious database operator deletes those answers, so the new holder's host finds
 * none and hands the resend to its enclave, which never saw the request: unless the replay state travelled with the
 * wallet, it signs and counts the payment a second time. It travels two ways, both authenticated: ids decided
 * before the newest snapshot are sealed in it, ids decided after it come from the replayed (MAC'd) audit entries.
 */
describe('adversarial: a resend of a request the previous lease holder decided', () => {
  let s: ClusterWithAgent
  beforeAll(async () => {
    s = await clusterWithAgent(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * BigInt(CAP)).toString() }), {
      pairs: 2,
      env: { BURSAR_LEASE_TTL_MS: '2000' },
    })
  }, 120_000)
  afterAll(async () => {
    await s?.cluster.stop()
    releasePostgres()
  })

  it('gets the same answer; with its stored answer deleted by the database the new holder refuses it; counted once', async () => {
    const a = (await s.cluster.holder())!.pair
    const b = s.cluster.pairs.find((p) => p !== a)!
    const body = () => signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }) })
    const nonceOf = (x: SignedBody) => (JSON.parse(x.request) as { nonce: string }).nonce
    const issuedAt = Date.now()

    // r1 before a snapshot (owner acts always seal one), r2 and r3 after it (in the audit tail a new holder replays).
    const r1 = body()
    expect((await postSign(a.url, r1)).status).toBe(200)
    const owner = new OwnerClient(a.url, s.owner)
    await owner.act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: true })
    await owner.act('FreezeAgent', s.wallet, { agentId: s.agentKey.agentId, frozen: false })
    const r2 = body()
    const r3 = body()
    expect((await postSign(a.url, r2)).status).toBe(200)
    const first3 = await postSign(a.url, r3)
    expect(first3.status).toBe(200)

    const exit = a.exited()
    a.signal('SIGKILL')
    await exit
    await waitFor(async () => (await s.cluster.holder())?.pair === b && (await fetch(`${b.url}/readyz`)).ok, 30_000, 'the standby takes over')

    const db = new pg.Client({ connectionString: s.cluster.databaseUrl })
    await db.connect()
    try {
      // What the new holder loaded: a snapshot that covers r1's decision and not r2's.
      const entries = await storedEntries(s.cluster.databaseUrl)
      const seqOf = (x: SignedBody) => entries.find((e) => e.requestId === nonceOf(x) && e.event === 'sign_allowed')!.seq
      const loaded = await db.query<{ audit_seq: string }>('SELECT audit_seq FROM snapshots WHERE version < (SELECT MAX(version) FROM snapshots) ORDER BY version DESC LIMIT 1')
      const snapshotSeq = Number(loaded.rows[0]!.audit_seq)
      expect(seqOf(r1)).toBeLessThanOrEqual(snapshotSeq)
      expect(seqOf(r2)).toBeGreaterThan(snapshotSeq)

      // Honest store: the resend gets the first answer, byte for byte.
      const again3 = await postSign(b.url, r3)
      expect(again3).toEqual(first3)

      // Malicious database: the answers of r1 and r2 are gone; the new holder's enclave must refuse the resends.
      await db.query('DELETE FROM agent_answers WHERE nonce = ANY($1)', [[nonceOf(r1), nonceOf(r2)]])
      for (const r of [r1, r2]) {
        const again = await postSign(b.url, r)
        expect(again.json.signature).toBeUndefined()
        // Not refused as stale: the resend is inside the request's lifetime, so only the replay state refuses it.
        expect(again.json.code).toBe('request_replayed')
      }
      expect(Date.now() - issuedAt).toBeLessThan(28_000)
    } finally {
      await db.end()
    }

    // Counted once: exactly CAP − 3 more payments fit.
    let more = 0
    for (;;) {
      const op = eip3009({ wallet: s.wallet, value: AMOUNT })
      const r = await requestSignature({ host: b.url, agentKey: s.agentKey, wallet: s.wallet, operation: op }).catch((e: { code?: string }) => e)
      if ('signature' in r) more++
      else {
        expect(r.code).toBe('policy_daily_cap_exceeded')
        break
      }
    }
    expect(more).toBe(CAP - 3)
    const allowed = (await storedEntries(s.cluster.databaseUrl)).filter((e) => e.event === 'sign_allowed')
    expect(allowed).toHaveLength(CAP)
    for (const r of [r1, r2, r3]) expect(allowed.filter((e) => e.requestId === nonceOf(r))).toHaveLength(1)
  }, 120_000)
})
