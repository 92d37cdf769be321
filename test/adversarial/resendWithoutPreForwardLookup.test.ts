import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { waitFor } from '../helpers/startStack.js'

const AMOUNT = 1_000n

type Answer = { signed: boolean; fetchedAt: number | null; fetchCount: number; code: string | null }

/**
 * Attack (or a retrying agent): resends of a decided request on a host that skips the store lookup before forwarding
 * (SQLite, request issued after the host started: host/routes/agentSignOnce.ts `mayBeDecided`). The resend goes to
 * the enclave, which refuses it (replayed, or past its deadline); the host then answers from its store. Every resend
 * must get the FIRST decision — the identical signature, the identical refusal — never a second decision, also after
 * a host restart; the same nonce with other bytes stays request_nonce_reused; the audit log holds one entry each.
 */
describe('adversarial: resends of decided requests when the pre-forward lookup is skipped get the first decision', () => {
  const answers = async (requestId: string) => {
    const res = await fetch(`${s.stack.url}/v1/audit/entries?request=${requestId}`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    return (await res.json()) as { entries: AuditEntry[]; answers: Answer[] }
  }
  const entriesOf = async (requestId: string) =>
    (await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })).filter((e) => e.requestId === requestId)

  // floorMs: past the enclave's floor and the host's start + 2 s: requests from then on take the skipped-lookup path.
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }), { agentFloor: 'production', floorMs: 2_600 })

  it('a signed payment resent (same bytes) gets the identical signature; other bytes under its nonce are refused; one entry', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const requestId = (JSON.parse(body.request) as { nonce: string }).nonce
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBe(200)
    expect(await verifyEip3009(s.wallet, op, first.json.signature as `0x${string}`)).toBe(true)
    for (let i = 0; i < 3; i++) expect(await postSign(s.stack.url, body)).toEqual(first)

    // Other bytes under the same nonce (a new amount, validly signed by the agent): refused, never signed.
    const other = JSON.parse(body.request) as Record<string, unknown>
    const forged = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT - 1n }), extra: { nonce: other.nonce } })
    const refused = await postSign(s.stack.url, forged)
    expect([refused.status, refused.json.code]).toEqual([409, 'request_nonce_reused'])

    expect(await entriesOf(requestId)).toHaveLength(1)
    // The fetch marks (batched into the store's next transaction, or their own after a few ms) count every answer.
    await waitFor(async () => (await answers(requestId)).answers[0]?.fetchCount === 4, 5_000, 'four fetches recorded')
  }, 60_000)

  it('a denied request resent gets the same refusal, not request_replayed; one entry', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT + 1n })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBeGreaterThanOrEqual(400)
    expect(first.json.code).not.toBe('request_replayed')
    expect(await postSign(s.stack.url, body)).toEqual(first)
    expect(await entriesOf((JSON.parse(body.request) as { nonce: string }).nonce)).toHaveLength(1)
  }, 60_000)

  it('with the enclave down, then restarted (it refuses the resend as issued before its start), a resend gets the stored signature', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBe(200)
    await s.stack.stopEnclave()
    // The forward fails (no enclave): the host answers from its store.
    expect(await postSign(s.stack.url, body)).toEqual(first)
    await s.stack.startEnclave()
    await s.stack.waitReady(30_000)
    // The fresh enclave refuses the resend (request_before_enclave_start, not request_replayed): the store answers.
    expect(await postSign(s.stack.url, body)).toEqual(first)
    expect(await entriesOf((JSON.parse(body.request) as { nonce: string }).nonce)).toHaveLength(1)
    await waitAgentFloor(2_100)
  }, 90_000)

  it('after a host restart (SIGKILL) a resend of a request decided before it still gets the first decision', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const first = await postSign(s.stack.url, body)
    expect(first.status).toBe(200)
    await new Promise<void>((r) => {
      s.stack.host.once('exit', () => r())
      s.stack.host.kill('SIGKILL')
    })
    await s.stack.startHost()
    await s.stack.waitReady()
    expect(await postSign(s.stack.url, body)).toEqual(first)
    // Past the restarted host's start + 2 s: a fresh request decided now, resent, on the new process's skipped path.
    await waitAgentFloor(2_600)
    const op2 = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body2 = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op2 })
    const first2 = await postSign(s.stack.url, body2)
    expect(first2.status).toBe(200)
    expect(await postSign(s.stack.url, body2)).toEqual(first2)
    expect(await entriesOf((JSON.parse(body.request) as { nonce: string }).nonce)).toHaveLength(1)
    expect(await entriesOf((JSON.parse(body2.request) as { nonce: string }).nonce)).toHaveLength(1)
  }, 90_000)
})
