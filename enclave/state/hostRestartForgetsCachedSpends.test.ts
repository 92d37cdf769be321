import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { verifyTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { HOUR_MS, SpendLedger } from '../../core/ledger/SpendLedger.js'
import { createSimSealer } from '../../sim/simSealer.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import type { Persist } from '../../shared/protocol/messages.js'
import type { Sealer } from '../seal/Sealer.js'
import { Enclave } from '../Enclave.js'
import { handleAgentSign } from '../agent/handleAgentSign.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad, replayEntries } from './loadState.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as const
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' as const
const CAP = 10n ** 12n
const EVERY = 16 // a staggered check after every entry: the one wallet is resealed every ~16 entries

/** The host's store: every entry, each wallet's newest blob, the newest core. */
class Store {
  entries: string[] = []
  core: { version: number; auditSeq: number; blob: Uint8Array } | null = null
  blobs = new Map<string, { version: number; blob: Uint8Array }>()
  seals = 0
  put(p: Persist | undefined): void {
    if (!p) return
    this.entries.push(...p.entries)
    const s = p.sealed
    if (!s) return
    for (const w of s.wallets ?? []) if ((this.blobs.get(w.wallet)?.version ?? -1) < w.version) (this.blobs.set(w.wallet, w), this.seals++)
    if ((this.core?.version ?? -1) < s.version) this.core = s
  }
}

/**
 * rt29a, attack on issue 18's cached ledger text: a wallet's sealed ledger is written mostly from cached 128-entry
 * chunks of JSON text. A malicious host controls restarts and which sealed blobs it hands back; if any mutation of a
 * spend series kept a chunk's old text, the blob it stores would hold stale spends, and after a restart the agent
 * could spend past its cap. Through the real enclave (its own clock moved as a host cannot: back, forward a minute,
 * forward a day), hundreds of signed payments land in cached chunks and are then moved by every ledger mutation:
 * entries inserted before them (clock moved back), owner credits, minute coalescing (indices shift), 2 h request
 * pruning and 27 h spend pruning (compaction), with the wallet resealed throughout. A restart from the host's newest
 * core and blobs must rebuild exactly the live ledger, count exactly the payments whose signatures verify (viem), and
 * refuse one unit past the cap.
 */
describe('attack: a host restarts the enclave on cached ledger text to make it forget spends', () => {
  it('after back-dated spends, credits, coalescing and pruning of cached chunks, a restart counts every signed spend', async () => {
    let clock = 1_764_000_000_000
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt29a-')), 'k')
    const sealer = createSimSealer({ keyFile })
    const enclaveWith = (s: Sealer) =>
      new Enclave({ mode: 'sim', sealer: s, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: EVERY, now: () => clock })
    const enclave = enclaveWith(sealer)
    const store = new Store()
    await enclave.loadSnapshot(null)
    store.put((await finishLoad(enclave)).persist)
    const owner = privateKeyToAccount(`0x${'22'.repeat(32)}`)
    let seq = 0
    const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      store.put(r.persist)
      return r.result as Record<string, unknown>
    }
    const { wallet } = (await act('CreateWallet', { owner: owner.address, label: 'w', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(clock), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const agentId = agentIdFromPublicKey(raw)
    await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: String(++seq) })
    const policy = parsePolicy({
      version: 1, wallet, agentId, timeZone: 'UTC',
      tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
      budgets: [{ chainId: 84532, asset: USDC, perTx: CAP.toString(), rolling24h: CAP.toString() }],
      rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }],
    })
    await act('SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: String(++seq) }, JSON.stringify(policy))
    store.put((await enclave.catchUp(enclave.audit.head().seq, store.core!.version)).persist)
    clock += 5_000 // past the start floor

    /** Every payment the enclave signed: its value and when (its signature checked by viem). */
    const signed: Array<{ at: number; value: bigint }> = []
    const pay = async (value: bigint) => {
      const message = { from: wallet, to: PAY_TO, value: value.toString(), validAfter: '0', validBefore: String(Math.floor(clock / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` as const }
      const typedData = { domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC }, types: { TransferWithAuthorization: [...EIP3009_FIELDS] }, primaryType: 'TransferWithAuthorization' as const, message }
      const text = JSON.stringify({ v: 1, agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: clock, expiresAt: clock + 30_000, op: 'signTypedData', typedData })
      const r = await handleAgentSign(enclave, { request: text, signature: sign(null, Buffer.from(text), privateKey).toString('hex') })
      if (r.ok) store.put(r.persist)
      if (!r.ok || !('signature' in r.result)) return r
      const ok = await verifyTypedData({ address: wallet, ...typedData, message: { ...message, value, validAfter: 0n, validBefore: BigInt(message.validBefore) }, signature: r.result.signature as `0x${string}` })
      expect(ok).toBe(true)
      signed.push({ at: clock, value })
      return r
    }
    const run = async (count: number, step: number) => {
      for (let i = 0; i < count; i++) {
        clock += step
        expect((await pay(BigInt(1_000 + signed.length))).ok).toBe(true)
      }
    }

    /**
     * The host restarts the enclave now, from what it stored: the newest core, each wallet's newest blob, the entries
     * after the core's head. The restarted ledger must be the live one, and count exactly the payments signed in the
     * last 24 h (none lies near the window's edge: coalescing moves an entry at most a minute later).
     */
    const restart = async (phase: string) => {
      const live = enclave.state.wallet(wallet).ledger
      // A new process (tail38: its own sealer: the live one also sealed a periodic seal still on its way out).
      const restarted = enclaveWith(createSimSealer({ keyFile }))
      await restarted.loadSnapshot(store.core!.blob, [...store.blobs].map(([w, b]) => ({ wallet: w, blob: b.blob })))
      const tail = store.entries.filter((t) => (JSON.parse(t) as { seq: number }).seq > store.core!.auditSeq)
      expect((await replayEntries(restarted, tail)).ok, phase).toBe(true)
      expect((await finishLoad(restarted)).ok, phase).toBe(true)
      const ledger = restarted.state.wallet(wallet).ledger
      // The same ledger (up to same-millisecond entries a reload merges: a payment back-dated onto another's time).
      const norm = (l: { toJSON(): ReturnType<SpendLedger['toJSON']> }) => JSON.stringify(SpendLedger.fromJSON(l.toJSON()).toJSON())
      expect(norm(ledger), phase).toBe(norm(live))
      for (const x of signed.filter((_, i) => i % 7 === 0)) expect(ledger.spentAfter(agentId, 84532, USDC, x.at), phase).toBe(live.spentAfter(agentId, 84532, USDC, x.at))
      const since = clock - 24 * HOUR_MS
      expect(signed.some((x) => Math.abs(x.at - since) < 5 * 60_000), phase).toBe(false)
      const expected = signed.filter((x) => x.at > since).reduce((a, x) => a + x.value, 0n)
      expect(expected, phase).toBeGreaterThan(0n)
      expect(ledger.spentAfter(agentId, 84532, USDC, since), phase).toBe(expected)
      return { restarted, expected }
    }
    const lastSweepAt = () => enclave.state.wallet(wallet).ledger.toJSON().lastSweepAt

    // 1. 400 payments over ~3 s, resealed every ~16: full chunks cached.
    await run(400, 7)
    await restart('appended')
    // 1b. A burst in one millisecond, resealed within it: each payment merges into the newest entry, which ends a
    // whole chunk (128 entries: a multiple of the chunk size; the entry a cache must never keep: it still changes).
    const entries = () => Object.values(enclave.state.wallet(wallet).ledger.toJSON().spends)[0]!.length
    while (entries() % 128 !== 0) await run(1, 1)
    await run(40, 0)
    expect(entries() % 128).toBe(0)
    await restart('same millisecond')
    // 2. The enclave's clock moves back 2 s: payments dated inside the cached chunks (every later index moves).
    clock -= 2_000
    await run(40, 3)
    await restart('back-dated')
    // 3. An owner credit (a full seal), then more payments.
    clock += 3_000
    await act('CreditBudget', { wallet, agentId, chainId: '84532', asset: USDC, amount: '5', seq: String(++seq) })
    await run(300, 11)
    await restart('credited')
    // 4. In the next minute, 400 payments cached; then the next sweep coalesces the earlier minute into one bucket:
    // every cached chunk after it moves down.
    clock = Math.ceil(clock / 60_000) * 60_000 + 1_000
    await run(400, 13)
    const before = enclave.state.wallet(wallet).ledger.toJSON().spends
    clock = lastSweepAt() + 60_000
    await run(20, 5)
    expect(Object.values(enclave.state.wallet(wallet).ledger.toJSON().spends)[0]!.length).toBeLessThan(Object.values(before)[0]!.length) // coalesced
    await restart('coalesced')
    // 5. 30 min later 300 payments (cached); 2 h after phase 4 the request counter drops phases 1-4 (> half of it:
    // compacted, the cached chunks re-indexed).
    const phase4 = clock
    clock += 30 * 60_000
    await run(300, 9)
    clock = phase4 + 2 * HOUR_MS + 61_000
    await run(40, 17)
    await restart('compacted')
    // 6. 26 h later every payment before is pruned; new payments; then the cap after a restart.
    clock += 26 * HOUR_MS
    await run(300, 9)
    // 6b. The enclave's clock moves back 3 h (no sweep until it is a minute past the last one again): ~350 payments,
    // two a minute, stay raw and are cached between older buckets and the newest payments; one sweep then coalesces
    // them all at once (buckets an earlier sweep made may keep their text, the raw entries' chunks must not).
    const t = clock
    clock = t - 3 * HOUR_MS
    await run(350, 30_000)
    clock = Math.max(clock, t) + 61_000
    await run(20, 5)
    await restart('clock moved back 3 h')
    clock += 2 * HOUR_MS
    await run(160, 7)
    expect(store.seals).toBeGreaterThan(80)
    const { restarted, expected } = await restart('pruned')

    // The cap holds after the restart: one unit past it is refused, exactly up to it is signed.
    const left = CAP - expected
    const payOn = async (e: Enclave, value: bigint) => {
      clock += 1
      const message = { from: wallet, to: PAY_TO, value: value.toString(), validAfter: '0', validBefore: String(Math.floor(clock / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` }
      const typedData = { domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC }, types: { TransferWithAuthorization: [...EIP3009_FIELDS] }, primaryType: 'TransferWithAuthorization', message }
      const text = JSON.stringify({ v: 1, agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: clock, expiresAt: clock + 30_000, op: 'signTypedData', typedData })
      return handleAgentSign(e, { request: text, signature: sign(null, Buffer.from(text), privateKey).toString('hex') })
    }
    clock += 5_000 // past the restarted enclave's start floor
    const refused = await payOn(restarted, left + 1n)
    expect(refused.ok).toBe(false)
    expect(refused.ok ? null : refused.error.code).toBe('policy_daily_cap_exceeded')
    expect((await payOn(restarted, left)).ok).toBe(true)
  }, 180_000)
})
