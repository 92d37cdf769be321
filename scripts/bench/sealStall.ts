/**
 * Issue 18: how long the single writer stalls on periodic seals, in process (no sockets, no host), at the bench's
 * state size: `--wallets` wallets (1 agent each) pre-filled with `--prefill` requests + spends each in the rolling
 * 24 h, then `--requests` real agent requests one at a time (handleAgentSign, sim sealer, snapshotEvery 5000). Prints
 * the per-request time distribution and each seal's parts and size. `--root` runs another checkout's enclave.
 * tidy41: since tail38 a periodic seal is captured in the writer (the stall: its wallets' blobs encoded) and
 * encrypted in a turn of its own, carried by a later block; the parts come from the enclave's `bursar.writer`
 * diagnostics channel (tail39; a checkout before it prints none) and the request that captured a seal is the stall.
 *   npx tsx scripts/bench/sealStall.ts [--root /other/checkout] [--wallets 4] [--prefill 14000] [--requests 12000]
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { subscribe } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateKeyToAccount } from 'viem/accounts'

if (process.argv.includes('--help')) {
  console.log('npx tsx scripts/bench/sealStall.ts [--root /other/checkout] [--wallets 4] [--prefill 14000] [--requests 12000]')
  process.exit(0)
}
const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : d
}
const root = arg('root', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'))
const WALLETS = Number(arg('wallets', '4'))
const PREFILL = Number(arg('prefill', '14000'))
const REQUESTS = Number(arg('requests', '12000'))
const m = async (p: string) => import(path.join(root, p))
const { Enclave } = await m('enclave/Enclave.ts')
const { handleAgentSign } = await m('enclave/agent/handleAgentSign.ts')
const { applyOwnerAct } = await m('test/helpers/ownerActInProcess.ts')
const { finishLoad } = await m('enclave/state/loadState.ts')
const { createSimSealer } = await m('sim/simSealer.ts')
const { agentIdFromPublicKey } = await m('shared/identity/agentIdFromPublicKey.ts')
const { parseAdmission } = await m('shared/owner/parseAdmission.ts')
const { signOwnerAct } = await m('shared/owner/signOwnerAct.ts')
const { EIP3009_FIELDS } = await m('shared/schemas/eip3009Types.ts')
const { parsePolicy, policyHash } = await m('shared/schemas/policy.ts')

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const enclave = new Enclave({ mode: 'sim', sealer: createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-stall-')), 'k') }),
  nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 5000 })
await enclave.loadSnapshot(null)
await finishLoad(enclave)
const agents: Array<{ wallet: `0x${string}`; agentId: string; key: ReturnType<typeof generateKeyPairSync>['privateKey'] }> = []
for (let i = 0; i < WALLETS; i++) {
  const owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
  const act = async (primaryType: string, message: Record<string, unknown>, policy?: string) => {
    const r = await applyOwnerAct(enclave, { ...(await signOwnerAct({ account: owner, primaryType, message })), policy })
    if (!r.ok) throw new Error(JSON.stringify(r.error))
    return r.result as Record<string, unknown>
  }
  const { wallet } = (await act('CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })) as { wallet: `0x${string}` }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const agentId = agentIdFromPublicKey(raw)
  await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: '1' })
  const policy = parsePolicy({ version: 1, wallet, agentId, timeZone: 'UTC', tokens: [{ chainId: 84532, asset: USDC, name: 'USDC', version: '2', decimals: 6 }],
    budgets: [{ chainId: 84532, asset: USDC, perTx: '1000', rolling24h: '1000000000000' }],
    rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'], payTo: { in: [PAY_TO] }, maxValiditySeconds: 3600 }] })
  await act('SetPolicy', { wallet, agentId, version: '1', policyHash: policyHash(policy), seq: '2' }, JSON.stringify(policy))
  agents.push({ wallet, agentId, key: privateKey })
  const now = Date.now()
  for (let j = 0; j < PREFILL; j++) {
    const at = now - 3_600_000 + j
    enclave.state.apply({ type: 'ledger', wallet, events: [{ type: 'request', agentId, at },
      { type: 'spend', agentId, chainId: 84532, asset: USDC.toLowerCase(), amount: String(1 + (j % 900)), payTo: PAY_TO.toLowerCase(), role: 'authorization', host: null, at, validBefore: null }] })
  }
}
const first = await enclave.sealTx({ entries: [], snapshot: true }) // the prefilled state sealed once, as after the bench's setup
await enclave.catchUp(enclave.audit.head().seq, first.sealed.version) // and stored
await new Promise((r) => setTimeout(r, 2_100))
// lat18: where a periodic seal's time goes (wall ms). tidy41: the capture in the writer (tail38: the wallets' blobs
// encoded, the core's fields; the stall) and the encryption after the turn, from the enclave's trace channel; each
// sealer call (AES-GCM + SHA-256 of a blob) and each wallet's plaintext (walletBlobParts, inside the capture) timed here.
const parts = { capture: [] as number[], encrypt: [] as number[], encode: [] as number[], seal: [] as number[] }
let capturedIn = new Set<number>()
let current = -1
subscribe('bursar.writer', (m) => {
  const { step, ms } = m as { step: string; ms: number }
  if (step === 'capture') parts.capture.push(ms), capturedIn.add(current)
  if (step === 'encrypt') parts.encrypt.push(ms)
})
const e = enclave as unknown as Record<string, (...a: unknown[]) => unknown> & { params: { sealer: { seal: (...a: unknown[]) => Promise<unknown> } } }
const sealer = e.params.sealer
const rawSeal = sealer.seal.bind(sealer)
sealer.seal = async (...a: unknown[]) => {
  const t = performance.now()
  try {
    return await rawSeal(...a)
  } finally {
    parts.seal.push(performance.now() - t)
  }
}
const rawPlaintext = e.walletPlaintext!.bind(enclave)
e.walletPlaintext = (...a: unknown[]) => {
  const t = performance.now()
  const r = rawPlaintext(...a)
  parts.encode.push(performance.now() - t)
  return r
}
capturedIn = new Set()
const times: number[] = []
const seals: Array<{ ms: number; wallets: number; bytes: number; core: number }> = []
for (let i = 0; i < REQUESTS; i++) {
  const a = agents[i % WALLETS]!
  const now = Date.now()
  const text = JSON.stringify({ v: 1, agentId: a.agentId, wallet: a.wallet, nonce: randomBytes(16).toString('hex'), issuedAt: now, expiresAt: now + 30_000, op: 'signTypedData',
    typedData: { domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: USDC }, types: { TransferWithAuthorization: [...EIP3009_FIELDS] }, primaryType: 'TransferWithAuthorization',
      message: { from: a.wallet, to: PAY_TO, value: String(1 + (i % 900)), validAfter: '0', validBefore: String(Math.floor(now / 1000) + 600), nonce: `0x${randomBytes(32).toString('hex')}` } } })
  current = i
  const t0 = performance.now()
  const r = await handleAgentSign(enclave, { request: text, signature: sign(null, Buffer.from(text), a.key).toString('hex') })
  const ms = performance.now() - t0
  if (!r.ok) throw new Error(JSON.stringify(r.error))
  times.push(ms)
  const s = r.persist?.sealed
  if (s) {
    seals.push({ ms, wallets: s.wallets?.length ?? 0, core: s.blob.length, bytes: s.blob.length + (s.wallets ?? []).reduce((n: number, w: { blob: Uint8Array }) => n + w.blob.length, 0) })
    await enclave.catchUp(enclave.audit.head().seq, s.version) // the host acknowledges the stored core
  }
}
const sorted = [...times].sort((x, y) => x - y)
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2)
console.log(`${root}: ${WALLETS} wallets, ${REQUESTS} requests: per request p50 ${q(0.5)} ms, p99 ${q(0.99)}, p99.9 ${q(0.999)}, max ${sorted[sorted.length - 1]!.toFixed(1)}; total ${(times.reduce((x, y) => x + y, 0) / 1000).toFixed(2)} s`)
const stalls = times.filter((_, i) => capturedIn.has(i)).sort((x, y) => x - y)
const med = (xs: number[], digits = 1) => [...xs].sort((a, b) => a - b)[xs.length >> 1]?.toFixed(digits) ?? '-'
const max = (xs: number[], digits = 1) => (xs.length ? Math.max(...xs).toFixed(digits) : '-')
console.log(`  ${parts.capture.length} periodic seals captured: the request that captured one (the writer's stall) median ${med(stalls)} ms, max ${max(stalls)} ms; ${seals.length} carried: wallets per seal max ${Math.max(0, ...seals.map((s) => s.wallets))}; bytes per seal median ${med(seals.map((s) => s.bytes), 0)}, max ${max(seals.map((s) => s.bytes), 0)}; of which the core blob: median ${med(seals.map((s) => s.core), 0)} (${seals.map((s) => s.core).join(' ')})`)
console.log(`  parts (wall ms, median / max): capture in the writer ${med(parts.capture)} / ${max(parts.capture)}, of which walletBlobParts ${med(parts.encode)} / ${max(parts.encode)}; encryption after the turn ${med(parts.encrypt)} / ${max(parts.encrypt)}, of which each sealer call (AES-GCM + SHA-256) ${med(parts.seal)} / ${max(parts.seal)}`)
