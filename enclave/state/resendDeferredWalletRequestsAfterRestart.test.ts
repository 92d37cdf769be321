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
import { Enclave } from '../Enclave.js'
import { handleAgentSign } from '../agent/handleAgentSign.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad, replayEntries } from './loadState.js'
import { decodeCore, decodeWalletBlob } from '../../core/state/snapshotCodec.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const WALLETS = 20
const EVERY = 320 // a staggered check every 20 entries
const N = 2_400

function enclaveWith(sealer: Sealer, now: () => number): Enclave {
  return new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: EVERY, now })
}

/** A host's store: every entry, each wallet's newest blob, the newest core. */
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
 * Issue 18: a staggered core no longer carries the request ids of the wallets it defers (nearly the whole 32 s id
 * window, sealed 16× per snapshotEvery). The attack: after a restart from the stored set, resend every request
 * decided before it — a deferred wallet's decided before its blob's seal (its blob holds them) and after it (only the
 * replayed log holds them), requests refused as expired (an entry with no ledger event) and dry runs (no entry carries
 * their id: the core still does).
 * Every resend must be refused as a replay.
 */
describe('enclave: resending requests after a restart from a staggered core', () => {
  it('every request decided before the restart is refused; the core carries no deferred wallet\'s ids', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-ids-')), 'k') })
    const started = Date.now()
    let clock = started
    const enclave = enclaveWith(sealer, () => clock)
    const store = new Store()
    await enclave.loadSnapshot(null)
    store.put((await finishLoad(enclave)).persist)
    let owner = privateKeyToAccount(`0x${'33'.repeat(32)}`)
    const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
      const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      store.put(r.persist)
      return r.result as Record<string, unknown>
    }
    const agents: Array<{ wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }> = []
    for (let i = 0; i < WALLETS; i++) {
      owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
      const { wallet } = (await act('CreateWallet', { owner: owner.address, label: `w${i}`, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(clock), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
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
    store.put((await enclave.catchUp(enclave.audit.head().seq, store.core!.version)).persist)
    clock += 8_000 // past the start floor, and room for the expired requests' issuedAt
    const request = (a: (typeof agents)[number], value: number, kind: 'pay' | 'dryRun' | 'expired') => {
      const issuedAt = kind === 'expired' ? clock - 5_000 : clock
      const text = JSON.stringify({
        v: 1, agentId: a.agentId, wallet: a.wallet, nonce: randomBytes(16).toString('hex'), issuedAt, expiresAt: kind === 'expired' ? clock - 1_000 : clock + 30_000, op: 'signTypedData',
        ...(kind === 'dryRun' ? { dryRun: true } : {}),
        typedData: {
          domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
          types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
          primaryType: 'TransferWithAuthorization',
          message: { from: a.wallet, to: PAY_TO, value: String(value), validAfter: '0', validBefore: String(Math.floor(clock / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` },
        },
      })
      return { request: text, signature: sign(null, Buffer.from(text), a.key).toString('hex') }
    }

    const sent: Array<{ req: ReturnType<typeof request>; wallet: string; kind: 'pay' | 'dryRun' | 'expired'; seq: number | null }> = []
    for (let i = 0; i < N; i++) {
      clock += 4
      const kind = i % 41 === 0 ? 'expired' : i % 97 === 0 ? 'dryRun' : 'pay'
      const a = agents[(i * 7 + (i >> 5)) % WALLETS]! // every wallet, not in lockstep
      const req = request(a, 1 + (i % 900), kind)
      const r = await handleAgentSign(enclave, req)
      expect(r.ok, JSON.stringify(!r.ok && r.error)).toBe(kind !== 'expired')
      if (!r.ok) expect(r.error.code).toBe('request_expired')
      sent.push({ req, wallet: a.wallet.toLowerCase(), kind, seq: kind === 'dryRun' ? null : enclave.audit.head().seq })
      const s = store.put(r.persist)
      if (s) store.put((await enclave.catchUp(enclave.audit.head().seq, s.version)).persist) // the host acknowledges it
    }

    // The newest core defers wallets (replay starts before its seal) while the window holds thousands of ids.
    const core = decodeCore((await sealer.unseal({ blob: store.core!.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    expect(core.behind!.length).toBeGreaterThan(0)
    expect(core.auditHead!.seq).toBeLessThan(core.sealedSeq!)
    expect([...enclave.replay.ids].length).toBe(N)
    // The core carries at most the ids no blob and no replayed entry gives back: the dry runs'.
    const entryless = sent.filter((s) => s.kind === 'dryRun').length
    expect(core.replay.length).toBeLessThanOrEqual(entryless)
    // A deferred wallet with payments decided both before and after its blob's seal.
    const blobSeal = async (w: string) => decodeWalletBlob((await sealer.unseal({ blob: store.blobs.get(w)!.blob, purpose: 'wallet-state', walletId: w })).plaintext).auditSeq
    const deferred = await Promise.all(core.behind!.map(async ([w]) => ({ w, at: await blobSeal(w.toLowerCase()) })))
    const split = deferred.find(({ w, at }) => {
      const seqs = sent.filter((s) => s.wallet === w.toLowerCase() && s.seq !== null).map((s) => s.seq!)
      return seqs.some((q) => q <= at) && seqs.some((q) => q > at)
    })
    expect(split).toBeDefined()
    expect(sent.filter((s) => s.kind === 'expired').length).toBeGreaterThan(50)

    // Restart from the store (same clock, so the start floor predates every request; only the replay cache refuses).
    let clock2 = started
    const restarted = enclaveWith(sealer, () => clock2)
    clock2 = clock
    await restarted.loadSnapshot(store.core!.blob, [...store.blobs].map(([wallet, b]) => ({ wallet, blob: b.blob })))
    const tail = store.entries.filter((t) => (JSON.parse(t) as { seq: number }).seq > store.core!.auditSeq)
    expect((await replayEntries(restarted, tail)).ok).toBe(true)
    expect((await finishLoad(restarted)).ok).toBe(true)
    let refused = 0
    for (const s of sent) {
      await expect(handleAgentSign(restarted, s.req), `${s.kind} ${s.wallet} seq ${s.seq}`).rejects.toMatchObject({ code: 'request_replayed' })
      refused++
    }
    expect(refused).toBe(N)
    // A fresh request of the same agents is still decided (the refusals are the replay cache's, not a broken load).
    const fresh = await handleAgentSign(restarted, request(agents[1]!, 5, 'pay'))
    expect(fresh.ok).toBe(true)
  }, 120_000)
})
