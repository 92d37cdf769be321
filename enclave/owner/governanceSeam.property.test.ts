import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { Enclave } from '../Enclave.js'
import { finishLoad } from '../state/loadState.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'

/**
 * Issue 12 stage A, model-based: random owner-act sequences (Resync and CancelScheduled, by the owner or a stranger,
 * seq behind, at, or ahead of the wallet's) through the seam give exactly the outcomes of the seq rules: a refusal
 * changes neither the ownerSeq nor the audit head; a detected rollback marks the wallet and writes one entry; an
 * applied act moves the seq and writes one entry.
 */
describe('governance seam: random owner-act sequences match the seq model', () => {
  it('outcome codes, ownerSeq, rolledBack and audit growth follow the model', async () => {
    const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-govp-')), 'k'), rejectOlderVersions: false })
    const enclave = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
    await enclave.loadSnapshot(null)
    await finishLoad(enclave)
    const stranger = privateKeyToAccount(generatePrivateKey())
    const step = fc.record({ kind: fc.constantFrom('Resync' as const, 'CancelScheduled' as const), delta: fc.integer({ min: -1, max: 2 }), stranger: fc.boolean() })
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const owner = privateKeyToAccount(generatePrivateKey()) // a fresh owner per run (4 wallets per owner)
        const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
        const created = await applyOwnerAct(enclave, body)
        if (!created.ok) throw new Error(created.error.code)
        const W = (created.result as { wallet: string }).wallet
        const model = { ownerSeq: 0, rolledBack: false }
        for (const s of steps) {
          const seq = Math.max(0, model.ownerSeq + s.delta)
          const message = s.kind === 'Resync' ? { wallet: W, seq: String(seq) } : { wallet: W, actHash: `0x${randomBytes(32).toString('hex')}`, seq: String(seq) }
          const act = await signOwnerAct({ account: s.stranger ? stranger : owner, primaryType: s.kind, message })
          const expected = s.stranger ? 'owner_not_authorized' : seq <= model.ownerSeq ? 'owner_act_stale'
            : s.kind === 'Resync' ? null : seq > model.ownerSeq + 1 || model.rolledBack ? (model.rolledBack ? 'wallet_rolled_back' : 'state_rollback_detected') : 'proposal_not_found'
          const head = enclave.audit.head().seq
          const got = await applyOwnerAct(enclave, act).then((r) => (r.ok ? null : r.error.code), (e: unknown) => (e instanceof EnclaveError ? e.code : String(e)))
          expect(got).toBe(expected)
          if (expected === null) Object.assign(model, { ownerSeq: seq, rolledBack: false })
          if (expected === 'state_rollback_detected') model.rolledBack = true
          const w = enclave.state.wallet(W)
          expect({ ownerSeq: w.ownerSeq, rolledBack: w.rolledBack }).toEqual(model)
          expect(enclave.audit.head().seq - head).toBe(expected === null || expected === 'state_rollback_detected' ? 1 : 0)
        }
      }),
      { numRuns: Number(process.env.BURSAR_GOV_SEAM_RUNS ?? 25) },
    )
  }, 120_000)
})
