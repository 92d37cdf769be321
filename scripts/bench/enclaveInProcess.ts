/**
 * In-process enclave throughput: the hot path (agent auth → replay → decode →
 * policy → sign → ledger → audit + checkpoint) without sockets or HTTP, to
 * show the enclave's own ceiling next to the end-to-end figure.
 */
import { createHmac, diffieHellman, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { Enclave } from '../../enclave/Enclave.js'
import { handleAgentSign } from '../../enclave/agent/handleAgentSign.js'
import { handleAgentStatus } from '../../enclave/agent/handleAgentStatus.js'
import { agentSessionKey, x25519FromHex, x25519Hex } from '../../shared/protocol/agentSessionKey.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { finishLoad } from '../../enclave/state/loadState.js'
import { createSimSealer } from '../../sim/simSealer.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { randomKeyPair } from '../../shared/identity/randomKeyPair.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'

/** cpuUs: this process's CPU (user + system) per request. `auth`: Ed25519 per request, or one MAC session (issue 22). */
export async function benchEnclaveInProcess(n = 3000, auth: 'ed25519' | 'session' = 'ed25519'): Promise<{ name: string; opsPerSec: number; cpuUs: number }[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-bench-'))
  const enclave = new Enclave({
    mode: 'sim',
    sealer: createSimSealer({ keyFile: path.join(dir, 'k') }),
    nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1',
    admission: parseAdmission(undefined),
    log: () => {},
  })
  await enclave.loadSnapshot(null)
  await finishLoad(enclave)
  const owner = privateKeyToAccount(`0x${'11'.repeat(32)}`)
  const act = async (primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>, policy?: string) => {
    const body = await signOwnerAct({ account: owner, primaryType, message })
    const r = await applyOwnerAct(enclave, { ...body, policy })
    if (!r.ok) throw new Error(JSON.stringify(r.error))
    return r.result as Record<string, unknown>
  }
  const created = await act('CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })
  const wallet = created.wallet as `0x${string}`
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const agentId = agentIdFromPublicKey(raw)
  await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: '1' })
  const policy = parsePolicy({
    version: 1,
    wallet,
    agentId,
    timeZone: 'UTC',
    tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '1000000000000' }],
    rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }],
  })
  await act('SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
  await new Promise((r) => setTimeout(r, 2_100)) // past the start floor
  let session: { id: string; key: Buffer } | null = null
  if (auth === 'session') {
    const x = randomKeyPair('x25519')
    const ours = x25519Hex(x.publicKey)
    const open = JSON.stringify({ v: 1, agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'openSession', x25519: ours })
    const res = await handleAgentStatus(enclave, { request: open, signature: sign(null, Buffer.from(open), privateKey).toString('hex') })
    if (!res.ok || !res.result.session) throw new Error(JSON.stringify(res))
    const theirs = x25519FromHex(res.result.session.x25519)
    session = { id: res.result.session.id, key: agentSessionKey(diffieHellman({ privateKey: x.privateKey, publicKey: theirs }), open, res.result.session.x25519) }
  }
  const authenticate = (text: string) =>
    session ? `s1:${session.id}:${createHmac('sha256', session.key).update(text).digest('hex')}` : sign(null, Buffer.from(text), privateKey).toString('hex')
  const make = () => {
    const now = Date.now()
    const text = JSON.stringify({
      v: 1,
      agentId,
      wallet,
      nonce: randomBytes(16).toString('hex'),
      issuedAt: now,
      expiresAt: now + 30_000,
      op: 'signTypedData',
      typedData: {
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
        types: {
          TransferWithAuthorization: [...EIP3009_FIELDS],
        },
        primaryType: 'TransferWithAuthorization',
        message: {
          from: wallet,
          to: PAY_TO,
          value: '10',
          validAfter: '0',
          validBefore: String(Math.floor(now / 1000) + 600),
          nonce: `0x${randomBytes(32).toString('hex')}`,
        },
      },
    })
    return { request: text, signature: authenticate(text) }
  }
  const reqs = Array.from({ length: n }, make)

  const out: { name: string; opsPerSec: number; cpuUs: number }[] = []
  for (const concurrency of [1, 64]) {
    const batch = reqs.splice(0, Math.floor(n / 2))
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    let next = 0
    const worker = async () => {
      while (next < batch.length) {
        const res = await handleAgentSign(enclave, batch[next++]!)
        if (!res.ok) throw new Error(JSON.stringify(res.error))
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const secs = (performance.now() - t0) / 1000
    const c = process.cpuUsage(c0)
    out.push({ name: `enclave hot path in process, ${concurrency} in flight (auth+policy+sign+ledger+audit)`, opsPerSec: batch.length / secs, cpuUs: (c.user + c.system) / batch.length })
  }
  return out
}

if (process.argv[1]?.endsWith('enclaveInProcess.ts')) {
  console.table(await benchEnclaveInProcess(Number(process.argv[2] ?? 3000), process.argv[3] === 'session' ? 'session' : 'ed25519'))
  console.log(`max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB (this process, incl. tsx)`)
}
