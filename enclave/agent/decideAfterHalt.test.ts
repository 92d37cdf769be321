import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { OwnerActType } from '../../shared/owner/ownerActTypes.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { eip3009, newAgent, paymentPolicy, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { Enclave } from '../Enclave.js'
import { dispatch } from '../protocol/dispatch.js'

/** A request queued in the writer behind a job that halts the enclave (a broken invariant) is not decided or signed. */
describe('enclave: an agent request queued behind a halt', () => {
  it('→ enclave_halted, no signature; the same request shape signs while ready', async () => {
    let t = Date.now()
    const enclave = new Enclave({
      mode: 'sim',
      sealer: createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-halt-')), 'k') }),
      nsm: { kind: 'mock', attest: async () => new Uint8Array() },
      configVersion: '1',
      admission: parseAdmission(undefined),
      log: () => {},
      now: () => t,
    })
    const ok = async (msg: Record<string, unknown>) => {
      const r = await dispatch(enclave, msg)
      if (!r.ok) throw new Error(`${String(msg.type)}: ${r.error.code}`)
      return r.result as Record<string, unknown>
    }
    await ok({ type: 'loadState', snapshot: null })
    await ok({ type: 'finishLoad' })
    const owner = privateKeyToAccount(generatePrivateKey())
    const act = async (primaryType: OwnerActType, message: Record<string, unknown>, policy?: string) =>
      ok({ type: 'ownerAct', ...(await signOwnerAct({ account: owner, primaryType, message })), ...(policy ? { policy } : {}) })
    const nonce = `0x${'11'.repeat(32)}`
    const wallet = (await act('CreateWallet', { owner: owner.address, label: 'w', nonce, issuedAt: String(t) })).wallet as `0x${string}`
    const agent = newAgent()
    await act('RegisterAgent', { wallet, agentId: agent.agentId, agentPublicKey: agent.publicKeyHex, label: 'a', seq: '1' })
    const policy = parsePolicy({ ...paymentPolicy({ perTx: '1000', rolling24h: '5000' }), wallet, agentId: agent.agentId })
    await act('SetPolicy', { wallet, agentId: agent.agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
    t += 3_000 // past the start floor
    const pay = () => {
      const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }), issuedAt: t })
      return { type: 'agentSign', request: r.request, signature: r.signature }
    }
    expect((await dispatch(enclave, pay())).ok).toBe(true)
    // A writer job ahead of the request breaks an invariant; the request passed the phase check on arrival.
    void enclave.queue.run(() => {
      try {
        enclave.halt('test: broken invariant')
      } catch {}
    })
    const r = await dispatch(enclave, pay())
    expect(r.ok ? 'signed' : r.error.code).toBe('enclave_halted')
    expect(JSON.stringify(r)).not.toMatch(/0x[0-9a-f]{130}/)
  })
})
