/**
 * Agent request authentication, Ed25519 per request vs a per-session MAC (docs/agent-sdk.md "Sessions"), in one
 * process, rounds interleaved (A B A B …), ratios taken round by round:
 *  1. the authentication step alone over a real ~900-byte request text: Ed25519 verify (cached KeyObject) vs
 *     HMAC-SHA256 + constant-time compare (what enclave/agent/agentSessions.ts does);
 *  2. the enclave's whole hot path in process (handleAgentSign: auth → replay → decode → policy → sign → ledger →
 *     audit), CPU µs per request at 1 and 64 in flight, Ed25519 vs session-MACed requests, on one Enclave.
 *
 *   npx tsx scripts/bench/sessionAuthAb.ts [rounds=3] [requestsPerRun=1000]
 */
import { createHmac, generateKeyPairSync, sign, timingSafeEqual, verify } from 'node:crypto'
import { benchEnclaveInProcess } from './enclaveInProcess.js'

const rounds = Number(process.argv[2] ?? 3)
const n = Number(process.argv[3] ?? 1000)
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// 1. The authentication step alone.
const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const text = JSON.stringify({ pad: 'x'.repeat(880) })
const bytes = Buffer.from(text, 'utf8')
const sig = sign(null, bytes, privateKey)
const key = Buffer.alloc(32, 7)
const mac = createHmac('sha256', key).update(text, 'utf8').digest()
const cpu = (fn: () => unknown, ms = 300) => {
  for (let i = 0; i < 200; i++) fn()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let k = 0
  while (performance.now() - t0 < ms) for (let j = 0; j < 20; j++, k++) fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / k
}
const ed: number[] = []
const hm: number[] = []
for (let r = 0; r < rounds; r++) {
  ed.push(cpu(() => verify(null, Buffer.from(text, 'utf8'), publicKey, sig)))
  hm.push(cpu(() => timingSafeEqual(createHmac('sha256', key).update(text, 'utf8').digest(), mac)))
}
console.log(`auth step alone (900 B text): Ed25519 verify ${med(ed).toFixed(1)} µs, session HMAC ${med(hm).toFixed(1)} µs CPU (median of ${rounds}); ratio ${(med(hm) / med(ed)).toFixed(3)}`)

// 2. The enclave hot path, interleaved.
const rows: Record<string, number[]> = {}
for (let r = 0; r < rounds; r++) {
  for (const auth of ['ed25519', 'session'] as const) {
    for (const row of await benchEnclaveInProcess(n, auth)) {
      ;(rows[`${auth} ${row.name.match(/(\d+) in flight/)![1]} in flight cpuUs`] ??= []).push(row.cpuUs)
      ;(rows[`${auth} ${row.name.match(/(\d+) in flight/)![1]} in flight ops/s`] ??= []).push(row.opsPerSec)
    }
  }
}
for (const c of ['1', '64']) {
  const e = rows[`ed25519 ${c} in flight cpuUs`]!
  const s = rows[`session ${c} in flight cpuUs`]!
  const ratios = e.map((x, i) => s[i]! / x)
  console.log(
    `enclave hot path, ${c} in flight: Ed25519 ${med(e).toFixed(0)} µs/request, session MAC ${med(s).toFixed(0)} µs/request ` +
      `(ratio per round ${ratios.map((x) => x.toFixed(3)).join(' / ')}; median ${med(ratios).toFixed(3)}); ` +
      `ops/s ${med(rows[`ed25519 ${c} in flight ops/s`]!).toFixed(0)} → ${med(rows[`session ${c} in flight ops/s`]!).toFixed(0)}`,
  )
}
