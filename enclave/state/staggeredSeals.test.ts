import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import type { Persist } from '../../shared/protocol/messages.js'
import type { Sealer } from '../seal/Sealer.js'
import { Enclave, STAGGER } from '../Enclave.js'
import { handleAgentSign } from '../agent/handleAgentSign.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad, replayEntries } from './loadState.js'
import { decodeCore } from '../../core/state/snapshotCodec.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const WALLETS = 20
const EVERY = 320 // a staggered check every 20 entries

function enclaveWith(sealer: Sealer): Enclave {
  return new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: EVERY })
}

/** A host's store: every entry, and each (wallet, version) blob; the newest core. */
class Store {
  entries: string[] = []
  core: { version: number; auditSeq: number; blob: Uint8Array } | null = null
  blobs = new Map<string, { version: number; blob: Uint8Array }>()
  put(p: Persist | undefined): NonNullable<Persist['sealed']> | null {
    if (!p) return null
    this.entries.push(...p.entries)
    const s = p.sealed
    if (!s) return null
    for (const w of s.wallets ?? []) if ((this.blobs.get(w.wallet)?.version ?? -1) < w.version) this.blobs.set(w.wallet, w)
    if ((this.core?.version ?? -1) < s.version) this.core = s
    return s
  }
}

/**
 * Issue 18: under uniform load over 20 wallets a periodic seal holds at most ceil(20 / STAGGER) wallets (not all 20
 * at once), replay never has to go back more than 2 × snapshotEvery entries, and a restart from what a host stored
 * (newest core, each wallet's newest blob, the entries after the core's head) rebuilds every wallet's exact ledger.
 */
describe('enclave: staggered periodic seals', () => {
  it('each periodic seal holds a bounded share of the wallets; a restart after many rebuilds every ledger exactly', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-stagger-')), 'k')
    const enclave = enclaveWith(createSimSealer({ keyFile }))
    // Restarts are new processes with their own sealer (tail38: the live one also sealed a periodic seal still on its way out).
    const sealer = createSimSealer({ keyFile })
    const store = new Store()
    await enclave.loadSnapshot(null)
    store.put((await finishLoad(enclave)).persist)
    let owner = privateKeyToAccount(`0x${'22'.repeat(32)}`)
    const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      store.put(r.persist)
      return r.result as Record<string, unknown>
    }
    const agents: Array<{ wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }> = []
    for (let i = 0; i < WALLETS; i++) {
      owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`) // an owner holds at most 4 wallets
      const { wallet } = (await act('CreateWallet', { owner: owner.address, label: `w${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
      const { publicKey, privateKey } = generateKeyPairSync('ed25519')
      const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
      const agentId = agentIdFromPublicKey(raw)
      await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: '1' })
      const policy = parsePolicy({
        version: 1, wallet, agentId, timeZone: 'UTC',
        tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
        budgets: [{ chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '1000000000000' }],
        rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }],
      })
      await act('SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
      agents.push({ wallet, agentId, key: privateKey })
    }
    store.put((await enclave.catchUp(enclave.audit.head().seq, store.core!.version)).persist) // the host has it all
    // Past the start floor (start + 2 s, counted from the enclave's start, not from here: the set-up above took part of it).
    await new Promise((r) => setTimeout(r, Math.max(0, enclave.replay.startedAt + enclave.replay.futureSkewMs + 100 - Date.now())))
    const request = (a: (typeof agents)[number], value: number) => {
      const now = Date.now()
      const text = JSON.stringify({
        v: 1, agentId: a.agentId, wallet: a.wallet, nonce: randomBytes(16).toString('hex'), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
        typedData: {
          domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
          types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
          primaryType: 'TransferWithAuthorization',
          message: { from: a.wallet, to: PAY_TO, value: String(value), validAfter: '0', validBefore: String(Math.floor(now / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` },
        },
      })
      return { request: text, signature: sign(null, Buffer.from(text), a.key).toString('hex') }
    }

    const periodic: Array<{ wallets: number; replayFrom: number; head: number }> = []
    const lastSealed = new Map<string, number>()
    let maxAge = 0
    const sent: Array<ReturnType<typeof request>> = []
    for (let i = 0; i < 1_600; i++) {
      const a = agents[(i * 7 + (i >> 5)) % WALLETS]! // every wallet, not in lockstep
      sent.push(request(a, 1 + (i % 900)))
      const r = await handleAgentSign(enclave, sent[i]!)
      expect(r.ok).toBe(true)
      const head = enclave.audit.head().seq
      const s = store.put(r.persist)
      if (s) {
        periodic.push({ wallets: s.wallets!.length, replayFrom: s.auditSeq, head })
        for (const w of s.wallets!) lastSealed.set(w.wallet, head)
        // The host acknowledges the stored core (as the gateway does right after storing one).
        store.put((await enclave.catchUp(head, s.version)).persist)
      }
      if (i >= EVERY) for (const w of agents) maxAge = Math.max(maxAge, head - (lastSealed.get(w.wallet.toLowerCase()) ?? 0))
    }
    // Bounded: no periodic seal holds more than ceil(20 / STAGGER) wallets, and there were many of them.
    expect(periodic.length).toBeGreaterThan(20)
    expect(Math.max(...periodic.map((p) => p.wallets))).toBeLessThanOrEqual(Math.ceil(WALLETS / STAGGER))
    // Every wallet is sealed again within 2 × snapshotEvery entries, and replay never starts further back.
    expect(maxAge).toBeLessThanOrEqual(2 * EVERY)
    expect(Math.max(...periodic.map((p) => p.head - p.replayFrom))).toBeLessThanOrEqual(2 * EVERY)

    // The newest core left wallets behind it (the case under test): replay starts before its seal.
    const core = decodeCore((await sealer.unseal({ blob: store.core!.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    expect(core.behind!.length).toBeGreaterThan(0)
    expect(core.auditHead!.seq).toBeLessThan(core.sealedSeq!)

    // Restart from the store: newest core, each wallet's newest blob, the entries after the core's head.
    const before = new Map([...enclave.state.wallets].map(([a, w]) => [a, JSON.stringify(w.ledger.toJSON())]))
    const restarted = enclaveWith(sealer)
    await restarted.loadSnapshot(store.core!.blob, [...store.blobs].map(([wallet, b]) => ({ wallet, blob: b.blob })))
    const tail = store.entries.filter((t) => (JSON.parse(t) as { seq: number }).seq > store.core!.auditSeq)
    expect(tail.length).toBeGreaterThan(0)
    // A host that replays only part of the entries before the core's seal would make the deferred wallets forget spends.
    const short = enclaveWith(sealer)
    await short.loadSnapshot(store.core!.blob, [...store.blobs].map(([wallet, b]) => ({ wallet, blob: b.blob })))
    expect((await replayEntries(short, tail.slice(0, Math.max(1, core.sealedSeq! - store.core!.auditSeq - 1)))).ok).toBe(true)
    await expect(finishLoad(short)).rejects.toMatchObject({ code: 'state_rollback_detected' })
    const replayed = await replayEntries(restarted, tail)
    expect(replayed.ok).toBe(true)
    expect(restarted.audit.head()).toEqual(enclave.audit.head())
    const after = new Map([...restarted.state.wallets].map(([a, w]) => [a, JSON.stringify(w.ledger.toJSON())]))
    expect(after.size).toBe(WALLETS)
    for (const [a, ledger] of before) expect(after.get(a), a).toBe(ledger)
    // The replay state is whole: every request decided before the restart is remembered (a resend is refused).
    const keys = new Set([...restarted.replay.ids].map(([k]) => k))
    for (const t of sent) {
      const { agentId, nonce } = JSON.parse(t.request) as { agentId: string; nonce: string }
      expect(keys.has(`${agentId}:${nonce}`)).toBe(true)
    }
    expect((await finishLoad(restarted)).ok).toBe(true)
  }, 120_000)
})
