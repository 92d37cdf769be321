import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { LedgerEventSchema } from '../../core/ledger/LedgerEvent.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { Persist } from '../../shared/protocol/messages.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { createSimSealer } from '../../sim/simSealer.js'
import { CHAIN_ID, MERCHANT, TOKEN, TOKEN_ENTRY, newAgent, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { Enclave } from '../Enclave.js'
import { dispatch } from '../protocol/dispatch.js'
import { finishLoad, replayEntries } from '../state/loadState.js'

/**
 * Issue 18 (cpu39): the agent sign path applies the ledger events the pure core built without LedgerEventSchema's
 * parse (applyLedgerEvent's `built`); replay (stored entries, bytes from outside) still parses each one. Attack on
 * that: an agent-chosen field (amount, validity, resource URL host, reason, denial code) that lands in a core-built
 * event past the schema's bounds would be applied and logged live, and every later restart would halt on it (a
 * bricked wallet). Property, on generated requests through the real path: every ledger event of every entry the path
 * writes (allowed and refused) passes the schema unchanged. And the loader still refuses a malformed event in an entry
 * this enclave MAC'd.
 */
function rng(seed: number) {
  let s = seed >>> 0 || 1
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32)
}

describe('enclave: the core-built ledger events skip their parse on the sign path', () => {
  it('every ledger event the sign path writes passes the schema replay applies, unchanged (generated inputs)', async () => {
    const { enclave, wallet, agent, clock } = await paymentEnclave({
      perTx: '1000000000',
      rolling24h: '1000000000000000',
      rules: [{ id: 'any-3009', effect: 'allow', kinds: ['eip3009'] }, { id: 'msg', effect: 'allow', kinds: ['raw_message'] }],
    })
    const rand = rng(0xc39)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
    const label = () => 'abcdefghij0123456789-é'.repeat(4).slice(0, 1 + Math.floor(rand() * 70))
    const host = () => Array.from({ length: 1 + Math.floor(rand() * 6) }, label).join('.') + pick(['', '.', ':8443', '.example'])
    const events = new Map<string, number>()
    let [allowed, refused] = [0, 0]
    for (let i = 0; i < 250; i++) {
      clock.t += 1 + Math.floor(rand() * 5_000)
      const now = Math.floor(clock.t / 1000)
      const value = pick([0n, 1n, 10n ** BigInt(Math.floor(rand() * 30)), 2n ** 256n - 1n, BigInt(Math.floor(rand() * 2 ** 40))])
      const validBefore = pick([now + 60, now + 10 ** Math.floor(rand() * 12), 2 ** 53 - 1, 2 ** 53, now - 10])
      const context = { ...(rand() < 0.6 ? { reason: label().repeat(1 + Math.floor(rand() * 8)) } : {}), ...(rand() < 0.7 ? { resourceUrl: `https://${host()}/p?q=${label()}` } : {}) }
      const operation =
        rand() < 0.8
          ? {
              op: 'signTypedData' as const,
              typedData: {
                domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: rand() < 0.9 ? CHAIN_ID : 1, verifyingContract: TOKEN },
                types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
                primaryType: 'TransferWithAuthorization',
                message: { from: wallet, to: rand() < 0.8 ? MERCHANT : `0x${randomBytes(20).toString('hex')}`, value: value.toString(), validAfter: '0', validBefore: String(validBefore), nonce: `0x${randomBytes(32).toString('hex')}` },
              },
            }
          : { op: 'signMessage' as const, message: { text: label() } }
      const r = signAgentRequest({ agent, wallet, operation, issuedAt: clock.t, context } as Parameters<typeof signAgentRequest>[0])
      const res = await dispatch(enclave, { type: 'agentSign', request: r.request, signature: r.signature })
      res.ok ? allowed++ : refused++
      for (const text of res.persist?.entries ?? []) {
        const entry = JSON.parse(text) as { ledger: unknown[] }
        for (const e of entry.ledger) {
          const parsed = LedgerEventSchema.safeParse(e)
          expect(parsed.success, `${JSON.stringify(e)}: ${parsed.error?.issues[0]?.message}`).toBe(true)
          expect(canonicalJson(parsed.data)).toBe(canonicalJson(e))
          const type = (e as { type: string }).type
          events.set(type, (events.get(type) ?? 0) + 1)
        }
      }
    }
    expect(allowed).toBeGreaterThan(30)
    expect(refused).toBeGreaterThan(30)
    // Both kinds of decision wrote events: requests, spends (with hosts) and denials.
    for (const t of ['request', 'spend', 'denial']) expect(events.get(t) ?? 0, t).toBeGreaterThan(10)
  })

  it('replay still refuses an entry this enclave MAC-ed whose ledger event is malformed', async () => {
    let clock = 1_764_000_000_000
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-cpu39-')), 'k')
    const make = () => new Enclave({ mode: 'sim', sealer: createSimSealer({ keyFile }), nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, now: () => clock })
    const enclave = make()
    let core: Persist['sealed'] | undefined
    const keep = (p: Persist | undefined) => (core = p?.sealed ?? core)
    await enclave.loadSnapshot(null)
    keep((await finishLoad(enclave)).persist)
    const owner = privateKeyToAccount(`0x${'33'.repeat(32)}`)
    const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      keep(r.persist)
      return r.result as Record<string, unknown>
    }
    const { wallet } = (await act('CreateWallet', { owner: owner.address, label: 'w', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(clock), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
    const agent = newAgent()
    await act('RegisterAgent', { wallet, agentId: agent.agentId, agentPublicKey: agent.publicKeyHex, label: '', seq: '1' })
    const policy = parsePolicy({ version: 1, wallet, agentId: agent.agentId, timeZone: 'UTC', tokens: [TOKEN_ENTRY], budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: '100', rolling24h: '1000' }], rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'] }] })
    await act('SetPolicy', { wallet, agentId: agent.agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
    clock += 10_000
    // Entries only this enclave can write (its MAC), as the sign path writes them, one with each ledger event.
    const spend = { type: 'spend', agentId: agent.agentId, chainId: CHAIN_ID, asset: TOKEN.toLowerCase(), amount: '5', payTo: MERCHANT.toLowerCase(), role: 'authorization', host: null, at: clock, validBefore: null }
    const written = async (ledger: unknown[]) => {
      const tx = enclave.beginTx()
      enclave.appendEntry(tx, { wallet, agentId: agent.agentId, action: null, reason: null, policy: null, rule: 'pay', code: null, signedHash: null, requestId: randomBytes(16).toString('hex'), event: 'sign_allowed', verdict: 'allow', ledger: ledger as never })
      return (await enclave.sealTx(tx)).entries
    }
    const good = await written([spend])
    const bad = await written([{ ...spend, amount: '-5' }]) // SpendLedger.apply alone would take it: budget back
    const restarted = async (entries: string[]) => {
      const e = make()
      await e.loadSnapshot(core!.blob, (core!.wallets ?? []).map((w) => ({ wallet: w.wallet, blob: w.blob })))
      try {
        return { ok: (await replayEntries(e, entries)).ok, phase: e.phase }
      } catch (err) {
        return { ok: false, phase: e.phase, err: (err as Error).message }
      }
    }
    expect(await restarted(good)).toMatchObject({ ok: true })
    const refusedBad = await restarted([...good, ...bad])
    expect(refusedBad.ok).toBe(false)
    expect(refusedBad.phase).toBe('halted')
  })
})
