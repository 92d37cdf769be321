import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { encode } from 'cborg'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { DECISION_DOMAIN, openLink, sealLink } from '../../shared/governance/linkMac.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { Enclave } from '../Enclave.js'
import { finishLoad } from '../state/loadState.js'
import { decodeCore } from '../../core/state/snapshotCodec.js'
import { applyOwnerAct, decide as decideFor } from '../../test/helpers/ownerActInProcess.js'
import { applyOwnerAct as ownerAct, applyGovernanceDecision, ownerActView } from './applyOwnerAct.js'

/**
 * Issue 12 stage A: the signer ↔ governance seam as the host will carry it in stage B. Each case hands the signer a
 * decision it must refuse (typed, nothing applied: the wallet's ownerSeq and the audit head stay) and shows the honest
 * decision for the same view still applies.
 */
async function setup() {
  const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-gov-')), 'k'), rejectOlderVersions: false })
  const enclave = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
  await enclave.loadSnapshot(null)
  await finishLoad(enclave)
  const owner = privateKeyToAccount(generatePrivateKey())
  const create = async () => {
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
    const r = await applyOwnerAct(enclave, body)
    if (!r.ok) throw new Error(r.error.code)
    return (r.result as { wallet: string }).wallet.toLowerCase()
  }
  const resync = (wallet: string, seq: number) => signOwnerAct({ account: owner, primaryType: 'Resync', message: { wallet, seq: String(seq) } })
  return { enclave, sealer, create, resync }
}

/** The decision governance makes for a view (in process, as stage B's relay would deliver it). */
const decide = (enclave: Enclave, view: Uint8Array) => decideFor(enclave, view)

describe('governance seam: attacks on the decision the signer applies', () => {
  it('forged decision MAC: a decision under another key, or with one byte changed, is governance_decision_invalid', async () => {
    const { enclave, create, resync } = await setup()
    const W = await create()
    const sent = ownerActView(enclave, await resync(W, 1))
    const honest = await decide(enclave, sent.bytes)
    const body = openLink(enclave.linkKey, DECISION_DOMAIN, honest) as Record<string, unknown>
    const head = enclave.audit.head().seq
    // Governance's answer re-MACed under a key the attacker chose.
    await expect(applyGovernanceDecision(enclave, sent, sealLink(randomBytes(32), DECISION_DOMAIN, body))).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    // The honest bytes with the ownerSeq the decision moves to changed (a different act's outcome): the MAC breaks.
    const text = Buffer.from(honest).toString('utf8').replace('"ownerSeq":1', '"ownerSeq":7')
    expect(text).not.toBe(Buffer.from(honest).toString('utf8'))
    await expect(applyGovernanceDecision(enclave, sent, Buffer.from(text))).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    expect([enclave.state.wallet(W).ownerSeq, enclave.audit.head().seq]).toEqual([0, head])
    const ok = await applyGovernanceDecision(enclave, sent, honest)
    expect(ok.ok && ok.result).toMatchObject({ ownerSeq: 1 })
    expect(enclave.state.wallet(W).ownerSeq).toBe(1)
  })

  it('view reflected as decision: the signer’s own MACed view handed back is refused by its domain tag', async () => {
    const { enclave, create, resync } = await setup()
    const W = await create()
    const sent = ownerActView(enclave, await resync(W, 1))
    await expect(applyGovernanceDecision(enclave, sent, sent.bytes)).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    // and governance does not take a decision as a view
    await expect(decide(enclave, await decide(enclave, sent.bytes))).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    expect(enclave.state.wallet(W).ownerSeq).toBe(0)
  })

  it('decision for another wallet: a valid decision for wallet A is refused for an act on wallet B', async () => {
    const { enclave, create, resync } = await setup()
    const [A, B] = [await create(), await create()]
    const forA = await decide(enclave, ownerActView(enclave, await resync(A, 1)).bytes)
    const sentB = ownerActView(enclave, await resync(B, 1))
    await expect(applyGovernanceDecision(enclave, sentB, forA)).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    expect([enclave.state.wallet(A).ownerSeq, enclave.state.wallet(B).ownerSeq]).toEqual([0, 0])
  })

  it('decision replayed after a later act: an old applied decision is refused for the next act and for its own view', async () => {
    const { enclave, create, resync } = await setup()
    const W = await create()
    const sent1 = ownerActView(enclave, await resync(W, 1))
    const d1 = await decide(enclave, sent1.bytes)
    expect((await applyGovernanceDecision(enclave, sent1, d1)).ok).toBe(true)
    const sent2 = ownerActView(enclave, await resync(W, 2))
    await expect(applyGovernanceDecision(enclave, sent2, d1)).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    await expect(applyGovernanceDecision(enclave, sent1, d1)).rejects.toMatchObject({ code: 'governance_stale' })
    expect(enclave.state.wallet(W).ownerSeq).toBe(1)
  })

  it('stale view after another owner act landed: the decision on the older view is governance_stale, nothing applied', async () => {
    const { enclave, create, resync } = await setup()
    const W = await create()
    const late = ownerActView(enclave, await resync(W, 1))
    const lateDecision = await decide(enclave, late.bytes)
    expect((await applyOwnerAct(enclave, await resync(W, 1))).ok).toBe(true) // another act lands first
    const head = enclave.audit.head().seq
    await expect(applyGovernanceDecision(enclave, late, lateDecision)).rejects.toMatchObject({ code: 'governance_stale' })
    expect([enclave.state.wallet(W).ownerSeq, enclave.audit.head().seq]).toEqual([1, head])
  })
})

describe('governance seam: step kinds against the act (stage B)', () => {
  it('a decision MACed under the link key whose steps do not fit its act (key export, owner set, agent-path audit) is governance_decision_invalid', async () => {
    const { enclave, create, resync } = await setup()
    const W = await create()
    const sent = ownerActView(enclave, await resync(W, 1))
    const body = openLink(enclave.linkKey, DECISION_DOMAIN, await decide(enclave, sent.bytes)) as { steps: unknown[]; key: string }
    const owners = { owners: [W], thresholds: { stop: 1, approve: 1, loosen: 1, agents: 1, owners: 1 }, delayMs: 0 }
    const misfits = [
      { ...body, key: 'export' },
      { ...body, steps: [...body.steps, { type: 'wallet_changed', wallet: W, change: { type: 'governance_set', set: { governance: owners } } }] },
      { ...body, steps: [...body.steps, { type: 'audit', event: 'sign_allowed', fields: { wallet: W, agentId: 'agt_x', requestId: 'r1' } }] },
    ]
    const head = enclave.audit.head().seq
    for (const m of misfits) {
      await expect(applyGovernanceDecision(enclave, sent, sealLink(enclave.linkKey, DECISION_DOMAIN, m))).rejects.toMatchObject({ code: 'governance_decision_invalid' })
    }
    expect([enclave.state.wallet(W).ownerSeq, enclave.audit.head().seq]).toEqual([0, head])
  })

  it('ownerAct answers the view and the link key sealed under governance-link: only this sealer opens it', async () => {
    const { enclave, sealer } = await setup()
    const owner = privateKeyToAccount(generatePrivateKey())
    const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
    const r = await ownerAct(enclave, body)
    const needs = (r.ok ? r.result : null) as { needs: string; view: Uint8Array; link: Uint8Array }
    expect(needs.needs).toBe('governance')
    expect(Buffer.from((await sealer.unseal({ blob: needs.link, purpose: 'governance-link', walletId: '' })).plaintext)).toEqual(Buffer.from(enclave.linkKey))
    expect(Buffer.from(needs.link).includes(Buffer.from(enclave.linkKey))).toBe(false)
  })
})

describe('governance link key', () => {
  it('is sealed in the core blob; a core sealed before it (no linkKey) loads, gets one, and seals it next', async () => {
    const { enclave, sealer, create, resync } = await setup()
    const W = await create()
    const persisted = (await applyOwnerAct(enclave, await resync(W, 1))).persist! // an owner act's persist: the core and its wallet's blob
    const core = decodeCore((await sealer.unseal({ blob: persisted.sealed!.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    expect(Buffer.from(core.linkKey!)).toEqual(Buffer.from(enclave.linkKey))
    // An older build's core: the same fields without linkKey (the v2 format before issue 12).
    const { legacy: _l, linkKey: _k, ...old } = core
    const oldBytes = encode({ v: 2, ...old })
    const decoded = decodeCore(oldBytes)
    expect(decoded.linkKey).toBeUndefined()
    expect(decoded.directory).toEqual(core.directory)
    // The old core, sealed as an older build would, loads into a new enclave: it makes a link key, owner acts work
    // through the seam, and the next seal carries the key.
    const oldBlob = await sealer.seal({ purpose: 'enclave-state', walletId: '', version: core.stateVersion, plaintext: oldBytes })
    const restarted = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
    await restarted.loadSnapshot(oldBlob, persisted.sealed!.wallets!.map((w) => ({ wallet: w.wallet, blob: w.blob })))
    await finishLoad(restarted)
    expect(restarted.linkKey.length).toBe(32)
    const r = await applyOwnerAct(restarted, await resync(W, 2))
    expect(r.ok).toBe(true)
    const next = decodeCore((await sealer.unseal({ blob: r.persist!.sealed!.blob, purpose: 'enclave-state', walletId: '' })).plaintext)
    expect(Buffer.from(next.linkKey!)).toEqual(Buffer.from(restarted.linkKey))
  })
})
