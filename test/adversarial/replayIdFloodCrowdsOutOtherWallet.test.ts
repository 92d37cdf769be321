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
import type { Sealer } from '../../enclave/seal/Sealer.js'
import { Enclave } from '../../enclave/Enclave.js'
import { handleAgentSign } from '../../enclave/agent/handleAgentSign.js'
import { applyOwnerAct } from '../helpers/ownerActInProcess.js'
import { finishLoad, replayEntries } from '../../enclave/state/loadState.js'
import { decodeWalletBlob } from '../../core/state/snapshotCodec.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const FLOOD = 200_000 // the seal's id cap

function enclaveWith(sealer: Sealer, now: () => number): Enclave {
  return new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 100_000, now })
}

class Store {
  entries: string[] = []
  core: { version: number; auditSeq: number; blob: Uint8Array } | null = null
  blobs = new Map<string, { version: number; blob: Uint8Array }>()
  put(p: Persist | undefined): void {
    if (!p) return
    this.entries.push(...p.entries)
    const s = p.sealed
    if (!s) return
    for (const w of s.wallets ?? []) if ((this.blobs.get(w.wallet)?.version ?? -1) < w.version) this.blobs.set(w.wallet, w)
    if ((this.core?.version ?? -1) < s.version) this.core = s
  }
}

/**
 * Red team rt30b (replay18). A seal holds at most 200,000 request ids. Before replay18 it kept the newest 200,000 of
 * the whole cache; replay18 fills the cap wallet by wallet in the seal's order, so the wallets sealed first can use it
 * all. Attack: an agent of wallet A (another tenant, sealed before B) floods 200,000 cheap requests (status / refused
 * requests: each admits an id) inside the 32 s window; then B's agent pays once; an owner act seals every wallet; the
 * host starts a standby before the payment (so no start floor refuses it), loads the seal and the log after it, and
 * resends B's payment. It must be refused (request_replayed), not signed a second time.
 */
describe('adversarial: a request-id flood in one wallet crowds another wallet\'s ids out of the seal', () => {
  it('the victim wallet\'s payment, resent to a standby that loaded the seal, is refused', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt30b-')), 'k') })
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
    const agents: Array<{ wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey']; owner: typeof owner }> = []
    for (let i = 0; i < 2; i++) {
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
      agents.push({ wallet, agentId, key: privateKey, owner })
    }
    store.put((await enclave.catchUp(enclave.audit.head().seq, store.core!.version)).persist)
    clock += 8_000 // past the start floor
    const pay = (a: (typeof agents)[number]) => {
      const text = JSON.stringify({
        v: 1, agentId: a.agentId, wallet: a.wallet, nonce: randomBytes(16).toString('hex'), issuedAt: clock, expiresAt: clock + 30_000, op: 'signTypedData',
        typedData: {
          domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
          types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
          primaryType: 'TransferWithAuthorization',
          message: { from: a.wallet, to: PAY_TO, value: '5', validAfter: '0', validBefore: String(Math.floor(clock / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` },
        },
      })
      return { request: text, signature: sign(null, Buffer.from(text), a.key).toString('hex') }
    }
    const [attacker, victim] = [agents[0]!, agents[1]!]
    // The attacker's wallet changes (one payment), then its agent floods ids: each admitted as a status request's is.
    store.put((await handleAgentSign(enclave, pay(attacker))).persist)
    for (let i = 0; i < FLOOD; i++) {
      if (i % 10_000 === 0) clock += 100 // 200,000 ids over 2 s, well inside the window
      enclave.replay.admit(attacker.agentId, randomBytes(16).toString('hex'), clock, clock)
    }
    clock += 10
    const victimRequest = pay(victim)
    const first = await handleAgentSign(enclave, victimRequest)
    expect(first.ok).toBe(true)
    store.put(first.persist)
    // An owner act (the attacker's own wallet) seals every changed wallet.
    owner = attacker.owner
    clock += 10
    const extra = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    await act('RegisterAgent', { wallet: attacker.wallet, agentId: agentIdFromPublicKey(extra), agentPublicKey: `0x${extra.toString('hex')}`, label: '', seq: '3' })
    expect(store.core!.auditSeq).toBeGreaterThanOrEqual(enclave.audit.head().seq - 1)

    // The seal kept the newest 200,000 ids admitted: the victim's and the attacker's newest 199,999 (a capped wallet's
    // blob once held none at all: its agents' keys() iterator was read twice).
    const idsIn = async (w: string) => decodeWalletBlob((await sealer.unseal({ blob: store.blobs.get(w)!.blob, purpose: 'wallet-state', walletId: w })).plaintext).replay.map(([k]) => k)
    const victimKey = `${victim.agentId}:${(JSON.parse(victimRequest.request) as { nonce: string }).nonce}`
    expect(await idsIn(victim.wallet.toLowerCase())).toEqual([victimKey])
    expect((await idsIn(attacker.wallet.toLowerCase())).length).toBe(FLOOD - 1)

    // A standby the host started before the victim's request loads the seal and the log after it.
    let clock2 = started
    const standby = enclaveWith(sealer, () => clock2)
    clock2 = clock + 10
    await standby.loadSnapshot(store.core!.blob, [...store.blobs].map(([wallet, b]) => ({ wallet, blob: b.blob })))
    const tail = store.entries.filter((t) => (JSON.parse(t) as { seq: number }).seq > store.core!.auditSeq)
    expect((await replayEntries(standby, tail)).ok).toBe(true)
    expect((await finishLoad(standby)).ok).toBe(true)
    await expect(handleAgentSign(standby, victimRequest)).rejects.toMatchObject({ code: 'request_replayed' })
  }, 120_000)
})
