import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { auditEntries, eip3009, paymentPolicy, postSign, runCli, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { waitFor } from '../helpers/startStack.js'

const AMOUNT = 1_000n

/**
 * Whether the host's side of the agent's connection (host port → agent port) is still open: ESTABLISHED (01) or
 * CLOSE_WAIT (08, the agent's FIN read by the kernel but not yet by the host) in /proc/net/tcp (or tcp6).
 */
async function hostHoldsOpen(hostPort: number, agentPort: number): Promise<boolean> {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0')
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const table = await readFile(file, 'utf8').catch(() => '')
    for (const line of table.split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/)
      if (local?.endsWith(`:${hex(hostPort)}`) && remote?.endsWith(`:${hex(agentPort)}`) && (state === '01' || state === '08')) return true
    }
  }
  return false
}

type Answer = { signed: boolean; fetchedAt: number | null; fetchCount: number; code: string | null }

/**
 * Attack (or an honest crash): the enclave signs, the host stores the answer, and the host dies (SIGKILL) before the
 * agent got it. After the restart the agent's resend of the same bytes gets the stored answer (the enclave itself
 * would refuse the nonce as replayed), also after an enclave restart; the owner sees the payment as signed but never
 * fetched until the resend fetched it.
 */
describe('adversarial: host killed between signing and answering; the resend after restart gets the stored answer', () => {
  const answers = async (requestId: string) => {
    const res = await fetch(`${s.stack.url}/v1/audit/entries?request=${requestId}`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    return ((await res.json()) as { entries: AuditEntry[]; answers: Answer[] })
  }

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 10n).toString() }))

  it('signed, stored, never fetched; SIGKILL; restart; the identical resend gets the identical signature; one audit entry', async () => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT })
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op })
    const requestId = (JSON.parse(body.request) as { nonce: string }).nonce
    // The agent sends and its connection dies before any answer: the answer is stored, never delivered. The enclave is
    // held (SIGSTOP) until the host has seen the hang-up and closed its side of the connection (read from the kernel's
    // socket table), so the answer cannot reach the host first: on a loaded machine the two events can otherwise arrive
    // in one poll and the host hand the answer to the dying connection's kernel buffer (then it counts as fetched).
    const url = new URL(s.stack.url)
    const text = JSON.stringify(body)
    const sock = net.connect(Number(url.port), url.hostname)
    await new Promise<void>((r) => sock.once('connect', () => r()))
    const agentPort = sock.localPort!
    s.stack.enclave.kill('SIGSTOP')
    try {
      sock.end(`POST /v1/agent/sign HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
      sock.destroy()
      await waitFor(async () => !(await hostHoldsOpen(Number(url.port), agentPort)), 10_000, "the host closing the agent's connection")
    } finally {
      s.stack.enclave.kill('SIGCONT')
    }
    let stored: Answer | undefined
    await waitFor(async () => (stored = (await answers(requestId)).answers[0]) !== undefined, 10_000, 'the stored answer')
    expect(stored).toMatchObject({ signed: true, fetchedAt: null, fetchCount: 0 })

    // The owner's view: signed but never fetched, visible in `bursar audit query --request`.
    const q = await runCli(['audit', 'query', '--host', s.stack.url, '--token', s.stack.auditToken, '--request', requestId])
    expect(q.code).toBe(0)
    expect(q.stdout).toContain('sign_allowed')
    expect(q.stdout).toMatch(/SIGNED .*NEVER FETCHED/)

    // SIGKILL the host (no graceful close), restart it on the same store.
    await new Promise<void>((r) => {
      s.stack.host.once('exit', () => r())
      s.stack.host.kill('SIGKILL')
    })
    await s.stack.startHost()
    await s.stack.waitReady()

    const resent = await postSign(s.stack.url, body)
    expect(resent.status).toBe(200)
    expect(await verifyEip3009(s.wallet, op, resent.json.signature as `0x${string}`)).toBe(true)
    const after = await answers(requestId)
    expect(after.entries).toHaveLength(1)
    expect(after.entries[0]!.event).toBe('sign_allowed')
    expect(after.answers[0]!.fetchCount).toBe(1)
    expect(after.answers[0]!.fetchedAt).not.toBeNull()

    // Enclave restart too: its replay cache is empty now, but the host answers from its store; still one entry.
    await s.stack.stopEnclave()
    await s.stack.startEnclave()
    await s.stack.waitReady(30_000)
    const again = await postSign(s.stack.url, body)
    expect([again.status, again.json.signature]).toEqual([200, resent.json.signature])
    const all = await auditEntries(s.stack.url, s.owner, { agent: s.agentKey.agentId })
    expect(all.filter((e) => e.requestId === requestId)).toHaveLength(1)
    expect(all.flatMap((e) => (e.ledger as { type: string }[]).filter((l) => l.type === 'spend'))).toHaveLength(1)
  }, 120_000)
})
