/**
 * Issue 18 (cpu18): A/B of the enclave's hot path IN ONE PROCESS. Each argument is a checkout; its own modules
 * (Enclave, dispatch, the frame codec) are imported side by side, each with its own enclave, wallet and agent session,
 * and batches of requests at 64 in flight alternate between them (rotating order), so load from other processes falls
 * on both alike. Per request: the request frame's decode, dispatch (schema, session MAC, policy, signature, ledger,
 * audit entry, checkpoint, in-order release) and the response frame's encode, as serveFrames does.
 *
 *   npx tsx scripts/bench/hotPathAb.ts ROUNDS BATCH dirA dirB ...   (HOTPATH_CONTEXT=1: with the SDKs' x402 context)
 */
import { createHmac, diffieHellman, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any
const SDK_CONTEXT = {
  resourceUrl: 'https://api.example.com/paid/report', reason: 'bench: x402 payment',
  requirements: { scheme: 'exact', network: 'eip155:84532', asset: USDC, amount: '10', payTo: PAY_TO, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } },
}

export async function setup(dir: string) {
  const m = async (rel: string): Promise<Any> => import(path.join(path.resolve(dir), rel))
  const [{ Enclave }, { dispatch }, { handleAgentStatus }, { applyOwnerAct }, { parseAdmission }, { finishLoad }, { createSimSealer }, { agentIdFromPublicKey }, { signOwnerAct }, { parsePolicy, policyHash }, { EIP3009_FIELDS }, { randomKeyPair }, { agentSessionKey, x25519FromHex, x25519Hex }, { encodeFrame, decodeFrameBody }] = await Promise.all(
    ['enclave/Enclave.ts', 'enclave/protocol/dispatch.ts', 'enclave/agent/handleAgentStatus.ts', 'test/helpers/ownerActInProcess.ts', 'shared/owner/parseAdmission.ts', 'enclave/state/loadState.ts', 'sim/simSealer.ts', 'shared/identity/agentIdFromPublicKey.ts', 'shared/owner/signOwnerAct.ts', 'shared/schemas/policy.ts', 'shared/schemas/eip3009Types.ts', 'shared/identity/randomKeyPair.ts', 'shared/protocol/agentSessionKey.ts', 'shared/protocol/frame.ts'].map(m),
  )
  const tmp = mkdtempSync(path.join(tmpdir(), 'bursar-ab-'))
  const enclave = new Enclave({ mode: 'sim', sealer: createSimSealer({ keyFile: path.join(tmp, 'k') }), nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {} })
  await enclave.loadSnapshot(null)
  await finishLoad(enclave)
  const owner = privateKeyToAccount(`0x${'11'.repeat(32)}`)
  const act = async (primaryType: string, message: Record<string, unknown>, policy?: string) => {
    const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
    if (!r.ok) throw new Error(JSON.stringify(r.error))
    return r.result as Record<string, unknown>
  }
  const wallet = (await act('CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })).wallet as string
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
  await new Promise((r) => setTimeout(r, 2_100)) // past the enclave's start floor
  const x = randomKeyPair('x25519')
  const open = JSON.stringify({ v: 1, agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), op: 'openSession', x25519: x25519Hex(x.publicKey) })
  const res = await handleAgentStatus(enclave, { request: open, signature: sign(null, Buffer.from(open), privateKey).toString('hex') })
  const key = agentSessionKey(diffieHellman({ privateKey: x.privateKey, publicKey: x25519FromHex(res.result.session.x25519) }), open, res.result.session.x25519)
  const frame = (id: number) => {
    const now = Date.now()
    const text = JSON.stringify({
      v: 1, agentId, wallet, nonce: randomBytes(16).toString('hex'), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
      typedData: {
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC },
        types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
        primaryType: 'TransferWithAuthorization',
        message: { from: wallet, to: PAY_TO, value: '10', validAfter: '0', validBefore: String(Math.floor(now / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` },
      },
      ...(process.env.HOTPATH_CONTEXT === '1' && { context: SDK_CONTEXT }), // the SDKs' (buildPaymentRequest's) x402 context
    })
    const signature = `s1:${res.result.session.id}:${createHmac('sha256', key).update(text).digest('hex')}`
    return encodeFrame({ id, msg: { type: 'agentSign', request: text, signature } }).subarray(4)
  }
  /** Runs `n` prebuilt requests at 64 in flight (HOTPATH_C: another count, e.g. 1); returns CPU µs per request. */
  const run = async (n: number): Promise<number> => {
    const frames = Array.from({ length: n }, (_, i) => frame(i))
    let next = 0
    const c0 = process.cpuUsage()
    const worker = async () => {
      while (next < frames.length) {
        const f = decodeFrameBody(frames[next++]!) as { id: number; msg: unknown }
        const r = await dispatch(enclave, f.msg)
        if (!r.ok) throw new Error(JSON.stringify(r.error))
        encodeFrame({ id: f.id, ...r })
      }
    }
    await Promise.all(Array.from({ length: Number(process.env.HOTPATH_C ?? 64) }, worker))
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / n
  }
  /** One request's response (for micro-benches of its parts). */
  const sample = async (): Promise<Any> => dispatch(enclave, (decodeFrameBody(frame(0)) as { msg: unknown }).msg)
  /**
   * host40: `n` requests at 64 in flight through dispatch, kept as the host sees them: each request's text and
   * signature with its response frame's wire body (id 0), in the order answered.
   */
  const collect = async (n: number): Promise<Array<{ request: string; signature: string; wire: Buffer }>> => {
    const out: Array<{ request: string; signature: string; wire: Buffer }> = []
    let next = 0
    const worker = async () => {
      // Each request built when it is sent (a long collection would outlive prebuilt requests' 30 s lifetime).
      while (next < n) {
        const f = decodeFrameBody(frame(next++)) as { id: number; msg: { request: string; signature: string } }
        const r = await dispatch(enclave, f.msg)
        if (!r.ok) throw new Error(JSON.stringify(r.error))
        out.push({ request: f.msg.request, signature: f.msg.signature, wire: Buffer.from(encodeFrame({ id: 0, ...r }).subarray(4)) })
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    return out
  }
  return Object.assign(run, { sample, collect })
}

if (process.argv[1]?.endsWith('hotPathAb.ts')) await main()
async function main() {
const [rounds, batch, ...dirs] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 1000), ...process.argv.slice(4)]
const runs = []
for (const d of dirs) runs.push(await setup(d))
for (const r of runs) await r(batch) // warm-up
const res: number[][] = dirs.map(() => [])
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < dirs.length; i++) {
    const k = (i + round) % dirs.length
    res[k]!.push(await runs[k]!(batch))
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
dirs.forEach((d, k) => console.log(`${d}: median ${med(res[k]!).toFixed(1)} µs CPU per request (${res[k]!.map((x) => x.toFixed(0)).join(' ')})`))
const base = med(res[0]!)
dirs.slice(1).forEach((d, k) => {
  const ratios = res[k + 1]!.map((x, i) => x / res[0]![i]!)
  console.log(`${d} ÷ ${dirs[0]}: median ${med(ratios).toFixed(3)} (pairs ${ratios.map((x) => x.toFixed(2)).join(' ')}); Δ ${(med(res[k + 1]!) - base).toFixed(1)} µs`)
})
}
