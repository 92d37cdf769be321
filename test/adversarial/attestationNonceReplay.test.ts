import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AttestationError } from '../../shared/attestation/AttestationError.js'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import {
  type AgentSignOk,
  type MaliciousHost,
  type TestAgent,
  eip3009,
  paymentPolicy,
  signAgentRequest,
  startWithAgent,
  verifyPayment,
} from '../helpers/maliciousHost.js'

type AttestResult = { document: Uint8Array; userDataInputs: Parameters<typeof computeAttestationUserData>[0]; receiptPublicKey: Hex }

function codeOf(fn: () => unknown): string {
  try {
    fn()
    return 'VERIFIED'
  } catch (err) {
    return err instanceof AttestationError ? err.code : `UNTYPED:${(err as Error).message}`
  }
}

/**
 * Attack: the host answers a verifier's fresh challenge with an attestation
 * document it captured earlier (for another nonce, or before the policy set
 * changed), or with an old one past its age. The verifier's own nonce, the
 * commitment it recomputes and the maximum age refuse each with the exact
 * code; a fresh document for the verifier's nonce verifies; the enclave keeps
 * signing only within policy.
 */
describe('adversarial: attestation nonce replay (real enclave, offline verifier)', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let root: string
  let captured: AttestResult
  const nonceA = randomBytes(32)

  const attest = async (nonce: Uint8Array | null) => {
    const r = await host.call({ type: 'attest', nonce })
    expect(r.ok).toBe(true)
    return (r as { result: AttestResult }).result
  }
  const verify = (doc: AttestResult, nonce: Uint8Array, opts: { now?: () => number; userData?: Uint8Array } = {}) =>
    verifyAttestation(new Uint8Array(doc.document), {
      root,
      maxAgeMs: 60_000,
      expectedNonce: nonce,
      expectedUserData: opts.userData ?? computeAttestationUserData(doc.userDataInputs),
      expectedPublicKey: Buffer.from(doc.receiptPublicKey.slice(2), 'hex'),
      ...(opts.now ? { now: opts.now } : {}),
    })

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '100000' })))
    captured = await attest(nonceA)
    // The simulation PKI (root → intermediate) is created on the first attestation.
    root = readFileSync(path.join(host.dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem'), 'utf8')
    expect(verify(captured, nonceA).nonce).toBeDefined()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it("a captured document replayed to a verifier with a new nonce → attestation_nonce_mismatch", () => {
    expect(codeOf(() => verify(captured, randomBytes(32)))).toBe('attestation_nonce_mismatch')
  })

  it('replayed after the state changed (a payment moved the audit head) → attestation_user_data_mismatch against the fresh commitment', async () => {
    await host.waitAgentFloor()
    const req = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 10n }) })
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
    const nonceB = randomBytes(32)
    const fresh = await attest(nonceB)
    const freshUserData = computeAttestationUserData(fresh.userDataInputs)
    expect(codeOf(() => verify(captured, nonceA, { userData: freshUserData }))).toBe('attestation_user_data_mismatch')
    expect(fresh.userDataInputs.auditHead.seq).toBeGreaterThan(captured.userDataInputs.auditHead.seq)
  })

  it('replayed later than the maximum age → attestation_too_old', () => {
    expect(codeOf(() => verify(captured, nonceA, { now: () => Date.now() + 10 * 60_000 }))).toBe('attestation_too_old')
  })

  it('a fresh document for the verifier\'s nonce verifies; with no nonce asked it cannot satisfy one (nonce replay is the verifier\'s check)', async () => {
    const nonceC = randomBytes(32)
    const fresh = await attest(nonceC)
    expect(codeOf(() => verify(fresh, nonceC))).toBe('VERIFIED')
    const unbound = await attest(null)
    expect(codeOf(() => verify(unbound, nonceC))).toBe('attestation_nonce_mismatch')
  })
})
