/**
 * The agent SDK's per-payment parts, each timed in this one process against the raw viem signature measured in
 * the same run (CPU µs per call ÷ CPU µs per raw signature, rounds interleaved): what a payment costs the agent
 * apart from the transport.
 *
 *   npx tsx scripts/bench/sdkParts.ts            (SDK_PARTS_ROUNDS=5 SDK_PARTS_MS=300)
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { hashTypedDataFast } from '../../agent/hashTypedDataFast.js'
import { toJsonValue } from '../../agent/toJsonValue.js'
import { WalletSignatureCheck } from '../../agent/WalletSignatureCheck.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_USDC } from './buildPaymentRequest.js'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'

const rounds = Number(process.env.SDK_PARTS_ROUNDS ?? 5)
const ms = Number(process.env.SDK_PARTS_MS ?? 300)
const wallet = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
const now = BigInt(Math.floor(Date.now() / 1000))
// One constant types object, as @x402/evm passes its `authorizationTypes` on every payment.
const EIP3009_TYPES = { TransferWithAuthorization: EIP3009_FIELDS }
const typed = () => ({
  domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC as Hex },
  types: EIP3009_TYPES,
  primaryType: 'TransferWithAuthorization' as const,
  message: { from: wallet.address, to: BENCH_PAY_TO as Hex, value: BigInt(BENCH_PRICE), validAfter: now - 600n, validBefore: now + 300n, nonce: `0x${randomBytes(32).toString('hex')}` as Hex },
})
const samples = await Promise.all(Array.from({ length: 64 }, async () => {
  const t = typed()
  return { t, digest: hashTypedDataFast(t), sig: await wallet.signTypedData(t) }
}))
const check = new WalletSignatureCheck(wallet.address)
check.check(samples[0]!.digest, samples[0]!.sig, 'typed-data')
const ed = generateKeyPairSync('ed25519').privateKey
const answer = JSON.stringify({ signature: samples[0]!.sig, signedHash: `0x${'ab'.repeat(32)}`, receipt: { seq: 12345, head: 'cd'.repeat(32), at: Date.now() } })

const parts: Record<string, (i: number) => unknown> = {
  'typed data → JSON (toJsonValue ×3)': (i) => {
    const s = samples[i & 63]!.t
    return { domain: toJsonValue(s.domain), types: toJsonValue(s.types), primaryType: s.primaryType, message: toJsonValue(s.message) }
  },
  'EIP-712 digest (hashTypedDataFast)': (i) => hashTypedDataFast(samples[i & 63]!.t),
  'answer check (WalletSignatureCheck, native recover + compare)': (i) => check.check(samples[i & 63]!.digest, samples[i & 63]!.sig, 'typed-data'),
  'request JSON.stringify + Ed25519 sign + envelope': (i) => {
    const s = samples[i & 63]!.t
    const text = JSON.stringify({ v: 1, agentId: 'a'.repeat(32), wallet: wallet.address, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), expiresAt: Date.now() + 30000, op: 'signTypedData', typedData: { domain: toJsonValue(s.domain), types: s.types, primaryType: s.primaryType, message: toJsonValue(s.message) } })
    const sig = sign(null, Buffer.from(text, 'utf8'), ed).toString('hex')
    return `{"request":${JSON.stringify(text)},"signature":"${sig}"}`
  },
  'Ed25519 sign alone (cached KeyObject)': (i) => sign(null, Buffer.from(`x${i}`.padEnd(700, 'y')), ed),
  'answer JSON.parse': () => JSON.parse(answer),
}

function cpuPerCall(fn: (i: number) => unknown): number {
  for (let i = 0; i < 200; i++) fn(i)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < ms) for (let k = 0; k < 20; k++) fn(n++)
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / n
}

const results: Record<string, number[]> = {}
for (let r = 0; r < rounds; r++) {
  const raw = rawSignatureCpuUs(ms).cpuUs
  ;(results['raw viem signature, µs'] ??= []).push(raw)
  for (const [name, fn] of Object.entries(parts)) (results[name] ??= []).push(cpuPerCall(fn) / raw)
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const rawMed = med(results['raw viem signature, µs']!)
console.log(`raw viem signature: ${rawMed.toFixed(0)} µs CPU (median of ${rounds})`)
for (const name of Object.keys(parts)) {
  const m = med(results[name]!)
  console.log(`${m.toFixed(3).padStart(7)}× raw  ≈ ${(m * rawMed).toFixed(1).padStart(6)} µs  ${name}`)
}
