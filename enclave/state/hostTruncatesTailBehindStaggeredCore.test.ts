import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
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
import { decodeCore } from '../../core/state/snapshotCodec.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const EVERY = 320 // a staggered check every 20 entries

function enclaveWith(sealer: Sealer): Enclave {
  return new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: EVERY })
}

/** An honest host's store: entries by seq, each (wallet, version) blob, and every core it got (newest last). */
class Store {
  entries = new Map<number, string>()
  cores: Array<{ version: number; auditSeq: number; blob: Uint8Array }> = []
  blobs = new Map<string, Uint8Array>()
  put(p: Persist | undefined): NonNullable<Persist['sealed']> | null {
    if (!p) return null
    for (const t of p.entries) this.entries.set((JSON.parse(t) as { seq: number }).seq, t)
    const s = p.sealed
    if (!s) return null
    for (const w of s.wallets ?? []) this.blobs.set(`${w.wallet}@${w.version}`, w.blob)
    if ((this.cores.at(-1)?.version ?? -1) < s.version) this.cores.push(s)
    return s
  }
  get storedThrough(): number {
    let n = -1
    while (this.entries.has(n + 1)) n++
    return n
  }
}

/**
 * Attack (issue 18, staggered seals; red-team rt18): the newest core blob defers wallet A (its blob is current only
 * through an older seq `behind`; A's later payments replay from the entries). Before staggering, a core held every
 * wallet as of its head, so a host that truncated the tail after the core could at most roll state back to that core;
 * with a core it could pick, the core's state version fell too (owners, agents and auditors hold high-water marks of
 * it). Here the host restarts the enclave with the NEWEST core and none of the entries after its replay start:
 * wallet A loads as of `behind`, its payments between then and the core's seal are forgotten (its agent can spend
 * them again), while the state version is the newest one. Defined outcome: the load is refused until the replayed
 * entries reach the seq the core was sealed at; with the whole tail it loads with A's exact ledger. (An honest host
 * never holds such a core without its entries: catchUp holds a staggered core back until its entries have left.)
 */
describe('enclave: the host hands the newest staggered core without the tail its deferred wallets need', () => {
  it('finishLoad refuses a replay that stops before the core\'s seal; the whole tail loads exactly', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt18-')), 'k')
    const enclave = enclaveWith(createSimSealer({ keyFile }))
    const store = new Store()
    await enclave.loadSnapshot(null)
    store.put((await finishLoad(enclave)).persist)
    const act = async (owner: PrivateKeyAccount, primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      store.put(r.persist)
      return r.result as Record<string, unknown>
    }
    const agents: Array<{ wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }> = []
    for (let i = 0; i < 2; i++) {
      const owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
      const { wallet } = (await act(owner, 'CreateWallet', { owner: owner.address, label: `w${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
      const { publicKey, privateKey } = generateKeyPairSync('ed25519')
      const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
      const agentId = agentIdFromPublicKey(raw)
      await act(owner, 'RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: '1' })
      const policy = parsePolicy({
        version: 1, wallet, agentId, timeZone: 'UTC',
        tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
        budgets: [{ chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '1000000000000' }],
        rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }],
      })
      await act(owner, 'SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
      agents.push({ wallet, agentId, key: privateKey })
    }
    store.put((await enclave.catchUp(enclave.audit.head().seq, store.cores.at(-1)!.version)).persist)
    // Past the start floor (start + 2 s, counted from the enclave's start, not from here: the set-up above took part of it).
    await new Promise((r) => setTimeout(r, Math.max(0, enclave.replay.startedAt + enclave.replay.futureSkewMs + 100 - Date.now())))
    const pay = async (a: (typeof agents)[number]) => {
      const now = Date.now()
      const text = JSON.stringify({
        v: 1, agentId: a.agentId, wallet: a.wallet, nonce: randomBytes(16).toString('hex'), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
        typedData: {
          domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
          types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
          primaryType: 'TransferWithAuthorization',
          message: { from: a.wallet, to: PAY_TO, value: '10', validAfter: '0', validBefore: String(Math.floor(now / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` },
        },
      })
      const r = await handleAgentSign(enclave, { request: text, signature: sign(null, Buffer.from(text), a.key).toString('hex') })
      expect(r.ok).toBe(true)
      return store.put(r.persist)
    }
    // The host acknowledges a stored core right away (as the gateway does).
    const ack = async (s: NonNullable<Persist['sealed']>) => store.put((await enclave.catchUp(store.storedThrough, s.version)).persist)
    const spent = (e: Enclave, a: (typeof agents)[number]) => e.wallet(a.wallet).ledger.spentAfter(a.agentId, 84532, USDC.toLowerCase(), 0)
    const sinceTraffic = store.cores.length // cores before hold owner acts the tail would replay: refused as rollbacks
    // Both wallets pay, until the newest core defers one of them with payments of it after its blob.
    let deferred: { a: (typeof agents)[number]; behind: number; sealedSeq: number } | null = null
    for (let i = 0; i < 4 * EVERY && !deferred; i++) {
      const s = await pay(agents[i % 2]!)
      if (!s) continue
      const c = decodeCore((await createSimSealer({ keyFile }).unseal({ blob: s.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
      const [address, behind] = c.behind?.[0] ?? []
      if (address !== undefined && c.sealedSeq! - behind! > 10 && store.cores.length - sinceTraffic > 4) deferred = { a: agents.find((x) => x.wallet.toLowerCase() === address)!, behind: behind!, sealedSeq: c.sealedSeq! }
      else await ack(s)
    }
    expect(deferred).not.toBeNull()
    const { a, sealedSeq } = deferred!
    const core = store.cores.at(-1)!
    expect(core.auditSeq).toBeLessThanOrEqual(deferred!.behind)
    const c = decodeCore((await createSimSealer({ keyFile }).unseal({ blob: core.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    const blobs = c.directory.map(([w, v]) => ({ wallet: w, blob: store.blobs.get(`${w.toLowerCase()}@${v}`)! }))
    const tail = [...store.entries].filter(([seq]) => seq > core.auditSeq).sort(([x], [y]) => x - y).map(([, t]) => t)

    // The host restarts the enclave with the newest core and a tail that stops before the core's seal.
    for (const cut of [0, sealedSeq - core.auditSeq - 1]) {
      const restarted = enclaveWith(createSimSealer({ keyFile }))
      await restarted.loadSnapshot(core.blob, blobs)
      expect((await replayEntries(restarted, tail.slice(0, cut))).ok).toBe(true)
      expect(spent(restarted, a)).toBeLessThan(spent(enclave, a)) // A's payments since its blob are missing
      await expect(finishLoad(restarted)).rejects.toThrow(/before the snapshot's seal/)
    }
    // An honest host must never hold that core without its entries: catchUp (which re-sends only entries whose
    // answers have left) holds a staggered core back until the answer carrying its seal's entries has left.
    const prev = store.cores.at(-2)!.version
    enclave.releaseOrder.reset(sealedSeq) // the seal's own answer is still waiting its turn
    expect((await enclave.catchUp(core.auditSeq, prev)).persist.sealed).toBeNull()
    enclave.releaseOrder.reset(sealedSeq + 1) // it left (dispatch moves `next` past it)
    expect((await enclave.catchUp(core.auditSeq, prev)).persist.sealed?.version).toBe(core.version)
    await ack(core)

    // The whole tail: A's exact ledger.
    const restarted = enclaveWith(createSimSealer({ keyFile }))
    await restarted.loadSnapshot(core.blob, blobs)
    expect((await replayEntries(restarted, tail)).ok).toBe(true)
    expect((await finishLoad(restarted)).ok).toBe(true)
    expect(spent(restarted, a)).toBe(spent(enclave, a))
    for (const x of agents) expect(JSON.stringify(restarted.wallet(x.wallet).ledger.toJSON())).toBe(JSON.stringify(enclave.wallet(x.wallet).ledger.toJSON()))

    // Any older core the host kept, with the whole tail after it, rebuilds the same ledgers (nothing applied twice).
    expect(store.cores.length - 1 - sinceTraffic).toBeGreaterThan(2)
    for (const older of store.cores.slice(sinceTraffic, -1)) {
      const o = decodeCore((await createSimSealer({ keyFile }).unseal({ blob: older.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
      const e = enclaveWith(createSimSealer({ keyFile }))
      await e.loadSnapshot(older.blob, o.directory.map(([w, v]) => ({ wallet: w, blob: store.blobs.get(`${w.toLowerCase()}@${v}`)! })))
      expect((await replayEntries(e, [...store.entries].filter(([seq]) => seq > older.auditSeq).sort(([x], [y]) => x - y).map(([, t]) => t))).ok).toBe(true)
      for (const x of agents) expect(JSON.stringify(e.wallet(x.wallet).ledger.toJSON())).toBe(JSON.stringify(enclave.wallet(x.wallet).ledger.toJSON()))
    }
  }, 120_000)
})
