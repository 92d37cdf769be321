/**
 * Issue 18 (tail37): one busy wallet's seal — encode the wallet blob, AES-256-GCM it into the sealed blob (sim
 * sealer), SHA-256 of the blob (the core's directory digest) — in two checkouts, interleaved seal by seal on the same
 * state (A then B, B then A, alternately), so a loaded machine slows both alike. The wallet: 16 agents, `--entries`
 * requests + spends in its 24 h ledger, `--ids` request ids in the replay window; `--between` more requests + spends
 * and ids between two seals (the ledger text and the ids come from their caches, as in the writer). Checks both
 * checkouts' blobs decrypt to the same bytes. Prints CPU µs and wall ms per seal (median, p10, p90) and B ÷ A.
 *   npx tsx scripts/bench/sealCopiesAb.ts --a /other/checkout [--b .] [--entries 12000] [--ids 8000] [--between 300] [--seals 60]
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { RecentIds } from '../../core/replay/RecentIds.js'
import { probeIds } from '../../core/replay/recentIdsProbe.js'
import type { WalletRecord } from '../../core/state/stateTypes.js'

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : d
}
const [ENTRIES, IDS, BETWEEN, SEALS] = ['entries', 'ids', 'between', 'seals'].map((k, i) => Number(arg(k, ['12000', '8000', '300', '60'][i]!))) as [number, number, number, number]
const roots = { A: path.resolve(arg('a', '.')), B: path.resolve(arg('b', '.')) }
type Side = { encode: (b: unknown) => Uint8Array | Uint8Array[]; seal: (p: Uint8Array | Uint8Array[]) => Promise<Uint8Array>; open: (b: Uint8Array) => Promise<Uint8Array> }
const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-sealab-')), 'k')
const side = async (root: string): Promise<Side> => {
  const codec = await import(path.join(root, 'core/state/snapshotCodec.ts'))
  const { createSimSealer } = await import(path.join(root, 'sim/simSealer.ts'))
  const sealer = createSimSealer({ keyFile, rejectOlderVersions: false })
  // What Enclave.sealWallet hands the sealer: the parts where the checkout has them, else the joined bytes.
  return { encode: codec.walletBlobParts ?? codec.encodeWalletBlob, seal: (plaintext) => sealer.seal({ purpose: 'wallet-key', walletId: '0xw', version: 1, plaintext }), open: async (blob) => (await sealer.unseal({ blob, purpose: 'wallet-key', walletId: '0xw' })).plaintext }
}
const sides = { A: await side(roots.A), B: await side(roots.B) }

const ledger = new SpendLedger()
const ids = new RecentIds()
const agents = Array.from({ length: 16 }, (_, i) => `agent-${i}`)
const asset = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
let now = Date.now() - 3_600_000, j = 0
const event = () => {
  const agentId = agents[j % 16]!, at = (now += 3)
  ledger.apply({ type: 'request', agentId, at })
  ledger.apply({ type: 'spend', agentId, chainId: 84532, asset, amount: String(1 + (j % 900)), payTo: asset, role: 'authorization', host: null, at, validBefore: null })
  ids.add(`${agentId}:${randomBytes(16).toString('hex')}`, at)
  j++
}
for (let i = 0; i < ENTRIES; i++) event()
const wallet: WalletRecord = { address: `0x${'11'.repeat(20)}`, privateKey: new Uint8Array(32).fill(7), owner: `0x${'22'.repeat(20)}`, label: 'w', createdAt: 1, ownerSeq: 3, rolledBack: false, agents: new Map(), policies: new Map(), ledger }
const blobOf = () => ({ coreId: new Uint8Array(16).fill(1), version: 9, auditSeq: j, replay: ids.encodedFor(agents), wallet, thread: { walletSeq: j, hash: `0x${'ab'.repeat(32)}` } })
ids.expire(now - IDS * 3) // the window: ~IDS ids
const seal = async (s: Side) => {
  const c0 = process.cpuUsage(), w0 = performance.now()
  const plaintext = s.encode(blobOf())
  const e = process.cpuUsage(c0) // tail39: the part a periodic seal's capture does in the writer (the ids, the blob's encode)
  const blob = await s.seal(plaintext)
  createHash('sha256').update(blob).digest()
  const c = process.cpuUsage(c0)
  return { cpu: c.user + c.system, ms: performance.now() - w0, blob, enc: e.user + e.system }
}
await seal(sides.A), await seal(sides.B) // both fill the caches once
const out = { A: [] as Array<{ cpu: number; ms: number; enc: number }>, B: [] as Array<{ cpu: number; ms: number; enc: number }> }
let bytes = 0
for (let s = 0; s < SEALS; s++) {
  for (let i = 0; i < BETWEEN; i++) event()
  ids.expire(now - IDS * 3)
  const order = s % 2 ? (['B', 'A'] as const) : (['A', 'B'] as const)
  const r: Record<string, Awaited<ReturnType<typeof seal>>> = {}
  for (const k of order) r[k] = await seal(sides[k]), out[k].push(r[k]!)
  const [pa, pb] = [await sides.A.open(r.A!.blob), await sides.B.open(r.B!.blob)]
  if (!Buffer.from(pa).equals(Buffer.from(pb))) throw new Error(`seal ${s}: the checkouts' plaintexts differ`)
  bytes = r.B!.blob.length
}
const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor(p * (xs.length - 1))]!
const line = (k: 'A' | 'B') => `${k} ${roots[k]}: CPU µs per seal median ${q(out[k].map((x) => x.cpu), 0.5)} (p10 ${q(out[k].map((x) => x.cpu), 0.1)}, p90 ${q(out[k].map((x) => x.cpu), 0.9)}); wall ms median ${q(out[k].map((x) => x.ms), 0.5).toFixed(2)} (p10 ${q(out[k].map((x) => x.ms), 0.1).toFixed(2)}, p90 ${q(out[k].map((x) => x.ms), 0.9).toFixed(2)}); the capture's part (ids + encode) CPU µs median ${q(out[k].map((x) => x.enc), 0.5)} (p10 ${q(out[k].map((x) => x.enc), 0.1)})`
console.log(`one wallet, 16 agents, ${probeIds(ids).size} ids, blob ${bytes} bytes, ${SEALS} seals each (plaintexts equal at each):`)
console.log(line('A'))
console.log(line('B'))
console.log(`B ÷ A: CPU median ${(q(out.B.map((x) => x.cpu), 0.5) / q(out.A.map((x) => x.cpu), 0.5)).toFixed(2)}, p10 ${(q(out.B.map((x) => x.cpu), 0.1) / q(out.A.map((x) => x.cpu), 0.1)).toFixed(2)}; wall median ${(q(out.B.map((x) => x.ms), 0.5) / q(out.A.map((x) => x.ms), 0.5)).toFixed(2)}; capture's part median ${(q(out.B.map((x) => x.enc), 0.5) / q(out.A.map((x) => x.enc), 0.5)).toFixed(2)}, p10 ${(q(out.B.map((x) => x.enc), 0.1) / q(out.A.map((x) => x.enc), 0.1)).toFixed(2)}`)
