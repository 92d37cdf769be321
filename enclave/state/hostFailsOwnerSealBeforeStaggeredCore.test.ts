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
import { SealError } from '../seal/SealError.js'
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
 * Attack (issue 18, staggered seals; red-team rt18): in Nitro the enclave's KMS calls go through the host's proxy,
 * so the host can fail the seal of one owner act (FreezeAgent on wallet W0). The act's change and its audit entry
 * stand (the seal's failure only leaves W0 marked changed). The next periodic seals are staggered: W0 changed less
 * than snapshotEvery entries ago, so it is deferred, and the core's replay starts at W0's last seal — BEFORE the
 * owner act's entry, which replay refuses as a rollback (state_rollback_detected: owner acts never replay). An honest
 * host that restarts the enclave then (or a host that picks that moment) cannot load any core it holds: bricked; and
 * a replay that skipped the entry would forget the freeze. Defined outcome: after a failed seal of an owner act the
 * next seal is a full one, so no stored core ever needs an owner act replayed; every core loads with W0's agent frozen.
 */
describe('enclave: the host fails an owner act\'s seal, then restarts the enclave on a staggered core', () => {
  it('every core stored after the failed seal loads, and the frozen agent stays frozen', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt18-')), 'k')
    const sim = createSimSealer({ keyFile })
    let failNext = false
    const sealer: Sealer = {
      kind: sim.kind,
      seal: async (p) => {
        if (failNext) {
          failNext = false
          throw new SealError('seal_kms_denied', 'KMS call failed (the host\'s proxy)')
        }
        return sim.seal(p)
      },
      unseal: (p) => sim.unseal(p),
    }
    const enclave = enclaveWith(sealer)
    const store = new Store()
    await enclave.loadSnapshot(null)
    store.put((await finishLoad(enclave)).persist)
    const act = async (owner: PrivateKeyAccount, primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      store.put(r.persist)
      return r.result as Record<string, unknown>
    }
    const agents: Array<{ owner: PrivateKeyAccount; wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }> = []
    for (let i = 0; i < 3; i++) {
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
      agents.push({ owner, wallet, agentId, key: privateKey })
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
      const s = store.put(r.persist)
      // The host acknowledges a stored core right away (as the gateway does).
      if (s) store.put((await enclave.catchUp(store.storedThrough, s.version)).persist)
      return s
    }
    // A restart from one stored core: its wallet blobs, the entries after its head; W0's agent must be frozen.
    const restartFrom = async (core: Store['cores'][number]) => {
      const c = decodeCore((await sim.unseal({ blob: core.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
      const restarted = enclaveWith(createSimSealer({ keyFile })) // a new process
      await restarted.loadSnapshot(core.blob, c.directory.map(([a, v]) => ({ wallet: a, blob: store.blobs.get(`${a.toLowerCase()}@${v}`)! })))
      const tail = [...store.entries].filter(([seq]) => seq > core.auditSeq).sort(([a], [b]) => a - b).map(([, t]) => t)
      const replayed = await replayEntries(restarted, tail).catch((e: Error) => ({ ok: false as const, error: e.message }))
      expect('error' in replayed ? replayed.error : 'ok').toBe('ok')
      expect(restarted.audit.head()).toEqual(enclave.audit.head())
      expect(restarted.wallet(agents[0]!.wallet).ledger.frozenInfo(agents[0]!.agentId)).toBeDefined()
      expect(restarted.wallet(agents[0]!.wallet).ownerSeq).toBe(3)
      return c
    }

    // Traffic on W1 and W2 only: W0 stays unchanged, so each staggered seal moves its blob's "current through" up.
    for (let i = 0; i < 2 * EVERY; i++) await pay(agents[1 + (i % 2)]!)
    // The host fails the one KMS call of the FreezeAgent act's seal (W0's blob).
    const W0 = agents[0]!
    failNext = true
    const failed = await applyOwnerAct(enclave, await signOwnerAct({ account: W0.owner, primaryType: 'FreezeAgent', message: { wallet: W0.wallet, agentId: W0.agentId, frozen: true, seq: '3' } })).then(() => null, (e: unknown) => e)
    expect(failed).toBeInstanceOf(SealError)
    expect(enclave.wallet(W0.wallet).ledger.frozenInfo(W0.agentId)).toBeDefined() // the act's change stands
    // Its entry reaches the host on the next catchUp (as dispatch does once every answer before it has left).
    enclave.releaseOrder.reset(enclave.audit.head().seq + 1)
    store.put((await enclave.catchUp(store.storedThrough, store.cores.at(-1)!.version)).persist)
    expect(store.storedThrough).toBe(enclave.audit.head().seq)

    // More traffic on W1 and W2; after each new core the host restarts the enclave from it.
    const before = store.cores.length
    for (let i = 0; i < 2 * EVERY; i++) {
      const s = await pay(agents[1 + (i % 2)]!)
      if (s) {
        await restartFrom(store.cores.at(-1)!)
      }
    }
    expect(store.cores.length).toBeGreaterThan(before + 2)
  }, 120_000)
})
