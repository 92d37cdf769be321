/**
 * rt34a: what an owner act by a stranger (bad signer) costs the writer on a large wallet — 16 agents each with a policy
 * near the 12 KB limit: the governance view (wallet as JSON, MAC, governance's parse) vs the signature check alone.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { Enclave } from '../../enclave/Enclave.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { finishLoad } from '../../enclave/state/loadState.js'
import { verifyOwnerAct } from '../../governance/verifyOwnerAct.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { createSimSealer } from '../../sim/simSealer.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-stranger-'))
const enclave = new Enclave({ mode: 'sim', sealer: createSimSealer({ keyFile: path.join(dir, 'k') }), nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {} })
await enclave.loadSnapshot(null)
await finishLoad(enclave)
const owner = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const stranger = privateKeyToAccount(`0x${'22'.repeat(32)}`)
let seq = 0
const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
  const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
  if (!r.ok) throw new Error(JSON.stringify(r.error))
  return r.result as Record<string, unknown>
}
const { wallet } = (await act('CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
const payTo = Array.from({ length: 250 }, () => `0x${randomBytes(20).toString('hex')}`)
for (let i = 0; i < 16; i++) {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const agentId = agentIdFromPublicKey(raw)
  await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: String(++seq) })
  const policy = parsePolicy({ version: 1, wallet, agentId, timeZone: 'UTC', tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '1000000' }], rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: payTo.slice(0, 240) } }] })
  await act('SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: String(++seq) }, JSON.stringify(policy))
}
const bogus = await signOwnerAct({ account: stranger, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${'0'.repeat(40)}`, frozen: true, seq: String(seq + 1) } })
const time = async (f: () => Promise<unknown>, n = 50) => {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f()
  return (performance.now() - t0) / n
}
const whole = await time(() => applyOwnerAct(enclave, bogus).catch((e: { code?: string }) => { if (e.code !== 'owner_not_authorized') throw e }))
const verify = await time(() => verifyOwnerAct(bogus))
console.log(JSON.stringify({ lastSnapshotBytes: enclave.lastSnapshotBytes, strangerActMs: +whole.toFixed(2), verifyOnlyMs: +verify.toFixed(2) }))
