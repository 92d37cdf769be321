/**
 * Issue 18 (lat41): is a lone request's extra CPU its code running cold? The agent SDK's own synchronous work for one
 * payment (EIP-712 digest, request JSON + session HMAC + envelope, answer JSON.parse, the wallet signature check:
 * the parts sdkParts.ts times), timed call by call (performance.now around a synchronous call: on-CPU time unless
 * preempted, so medians are read) in three ways, interleaved round by round:
 *   hot    back to back (as at 64 in flight, where one turn runs many payments);
 *   idle   after a 1 ms timer (the process sleeps between payments, as at c = 1, other processes may take the core);
 *   spin   after 1 ms of busy waiting in this process (the same gap as idle, but the core never sleeps or changes hands);
 *   thrash after this process walked 32 MB of memory (the caches taken, as when host and enclave ran in between),
 *          no sleep.
 *
 *   npx tsx scripts/bench/coldParts.ts [rounds=5] [calls=400]
 */
import { createHmac, randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { hashTypedDataFast } from '../../agent/hashTypedDataFast.js'
import { toJsonValue } from '../../agent/toJsonValue.js'
import { WalletSignatureCheck } from '../../agent/WalletSignatureCheck.js'
import { eip3009 } from './runSdkPairs.js'

const rounds = Number(process.argv[2] ?? 5)
const calls = Number(process.argv[3] ?? 400)
const wallet = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
const typed = () => eip3009(wallet.address)
const samples = await Promise.all(Array.from({ length: 64 }, async () => {
  const t = typed()
  return { t, digest: hashTypedDataFast(t), sig: await wallet.signTypedData(t) }
}))
const check = new WalletSignatureCheck(wallet.address)
const macKey = randomBytes(32)
const answers = samples.map((s) => JSON.stringify({ signature: s.sig, signedHash: s.digest, receipt: { seq: 12345, head: 'cd'.repeat(32), at: Date.now(), signature: 'ef'.repeat(64) }, requestId: 'ab'.repeat(16) }))

// The payment's parts, in the order the SDK runs them; each part's time is kept apart too.
const PARTS = ['digest', 'request + HMAC + envelope', 'answer JSON.parse', 'signature check (native recover)'] as const
const partUs: number[][] = PARTS.map(() => [])
function payment(i: number): void {
  const s = samples[i & 63]!
  const t0 = performance.now()
  const digest = hashTypedDataFast(s.t)
  const t1 = performance.now()
  const text = JSON.stringify({ v: 1, agentId: 'a'.repeat(32), wallet: wallet.address, nonce: randomBytes(16).toString('hex'), issuedAt: Date.now(), expiresAt: Date.now() + 30000, op: 'signTypedData', typedData: { domain: toJsonValue(s.t.domain), types: s.t.types, primaryType: s.t.primaryType, message: toJsonValue(s.t.message) } })
  const mac = createHmac('sha256', macKey).update(text).digest('hex')
  const envelope = `{"request":${JSON.stringify(text)},"signature":"${mac}"}`
  const t2 = performance.now()
  const answer = JSON.parse(answers[i & 63]!) as { signature: Hex }
  const t3 = performance.now()
  check.check(digest, answer.signature, 'typed-data')
  const t4 = performance.now()
  if (envelope.length === 0) throw new Error('unreachable')
  partUs[0]!.push((t1 - t0) * 1000)
  partUs[1]!.push((t2 - t1) * 1000)
  partUs[2]!.push((t3 - t2) * 1000)
  partUs[3]!.push((t4 - t3) * 1000)
}

const THRASH = new Uint8Array(32 * 1024 * 1024)
let sink = 0
function thrash(): void {
  for (let o = 0; o < THRASH.length; o += 64) sink += THRASH[o]!++
}

const MODES = ['hot', 'idle', 'spin', 'thrash'] as const
type Mode = (typeof MODES)[number]
const partsOf: Record<string, number[][]> = { hot: [], idle: [], spin: [], thrash: [] }
async function run(mode: Mode): Promise<number> {
  const us: number[] = []
  for (const x of partUs) x.length = 0
  for (let i = 0; i < calls; i++) {
    if (mode === 'idle') await new Promise((r) => setTimeout(r, 1))
    if (mode === 'thrash') thrash()
    if (mode === 'spin') for (const t = performance.now(); performance.now() - t < 1; );
    const t0 = performance.now()
    payment(i)
    us.push((performance.now() - t0) * 1000)
  }
  us.sort((a, b) => a - b)
  partsOf[mode]!.push(partUs.map((x) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!))
  return us[Math.floor(us.length / 2)]!
}

for (let i = 0; i < 2000; i++) payment(i)
const res: Record<string, number[]> = { hot: [], idle: [], spin: [], thrash: [] }
for (let r = 0; r < rounds; r++) {
  const order = MODES.map((_, k, a) => a[(k + r) % a.length]!)
  for (const m of order) res[m]!.push(await run(m))
  console.log(`round ${r + 1} (load ${loadavg()[0]!.toFixed(1)}): median µs per payment's SDK work: ${MODES.map((m) => `${m} ${res[m]!.at(-1)!.toFixed(1)}`).join(', ')}`)
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const hot = med(res.hot!)
for (const [k, part] of PARTS.entries()) console.log(`  ${part}: median µs hot ${med(partsOf.hot!.map((x) => x[k]!)).toFixed(1)}, idle ${med(partsOf.idle!.map((x) => x[k]!)).toFixed(1)}, spin ${med(partsOf.spin!.map((x) => x[k]!)).toFixed(1)}, thrash ${med(partsOf.thrash!.map((x) => x[k]!)).toFixed(1)} (median of rounds)`)
console.log(`median of rounds: hot ${hot.toFixed(1)} µs, idle ${med(res.idle!).toFixed(1)} µs (${(med(res.idle!) / hot).toFixed(2)}×), spin ${med(res.spin!).toFixed(1)} µs (${(med(res.spin!) / hot).toFixed(2)}×), thrash ${med(res.thrash!).toFixed(1)} µs (${(med(res.thrash!) / hot).toFixed(2)}×)${sink === -1 ? '' : ''}`)
