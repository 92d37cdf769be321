import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { Enclave } from '../../enclave/Enclave.js'
import { dispatch } from '../../enclave/protocol/dispatch.js'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import type { OwnerActType } from '../../shared/owner/ownerActTypes.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { type PolicyRule, parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { newAgent, paymentPolicy } from './maliciousHost.js'
import { applyOwnerAct } from './ownerActInProcess.js'

/**
 * An in-process sim enclave, loaded, with one wallet, one registered agent and paymentPolicy (plus `rules`), its clock
 * (`clock.t`, ms) past the start floor: for tests that drive the agent path through `dispatch` without a host.
 */
export async function paymentEnclave(params: { perTx: string; rolling24h: string; rules?: PolicyRule[] }) {
  const clock = { t: Date.now() }
  const enclave = new Enclave({
    mode: 'sim',
    sealer: createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-payment-')), 'k') }),
    nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1',
    admission: parseAdmission(undefined),
    log: () => {},
    now: () => clock.t,
  })
  const ok = async (msg: Record<string, unknown>) => {
    const r = await dispatch(enclave, msg)
    if (!r.ok) throw new Error(`${String(msg.type)}: ${r.error.code}`)
    return r.result as Record<string, unknown>
  }
  await ok({ type: 'loadState', snapshot: null })
  await ok({ type: 'finishLoad' })
  const owner = privateKeyToAccount(generatePrivateKey())
  const act = async (primaryType: OwnerActType, message: Record<string, unknown>, policy?: string) => {
    const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), ...(policy ? { policy } : {}) })
    if (!r.ok) throw new Error(`${primaryType}: ${r.error.code}`)
    return r.result as Record<string, unknown>
  }
  const wallet = (await act('CreateWallet', { owner: owner.address, label: 'w', nonce: `0x${'11'.repeat(32)}`, issuedAt: String(clock.t), auditChain: enclave.audit.id })).wallet as `0x${string}`
  const agent = newAgent()
  await act('RegisterAgent', { wallet, agentId: agent.agentId, agentPublicKey: agent.publicKeyHex, label: 'a', seq: '1' })
  const base = paymentPolicy({ perTx: params.perTx, rolling24h: params.rolling24h })
  const policy = parsePolicy({ ...base, wallet, agentId: agent.agentId, rules: [...base.rules, ...(params.rules ?? [])] })
  await act('SetPolicy', { wallet, agentId: agent.agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
  clock.t += 3_000 // past the start floor
  return { enclave, wallet, agent, clock }
}
