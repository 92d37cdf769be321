/**
 * Issue 18 (cpu18, cpu18d, enc34): what each per-request cut saves, old way vs new way on the bench's real entry and answer (one
 * request through this checkout's enclave in process), CPU µs per call, medians of interleaved rounds.
 *
 *   npx tsx scripts/bench/cpuParts.ts [rounds=7] [calls=4000]
 */
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { setup } from './hotPathAb.js'
import { approvalKey } from '../../core/policy/approvalRequest.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { encode } from 'cborg'
import { encodeFrame } from '../../shared/protocol/frame.js'
import { hashEip3009 } from '../../core/decode/hashEip3009.js'
import { createHash, randomBytes } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { auditTurnTree } from '../../shared/audit/auditTurnTree.js'

/** canonicalJson before cpu18 (map/filter/join). */
function canonicalBefore(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(canonicalBefore).join(',')}]`
  const o = v as Record<string, unknown>
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalBefore(o[k])}`).join(',')}}`
}

/** canonicalJson before cpu18d (loops, Object.keys().sort()). */
function canonicalSorted(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v !== 'object') return JSON.stringify(v)
  let s: string
  if (Array.isArray(v)) {
    s = '['
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + canonicalSorted(v[i])
    return `${s}]`
  }
  const obj = v as Record<string, unknown>
  s = '{'
  for (const k of Object.keys(obj).sort()) if (obj[k] !== undefined) s += (s.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + canonicalSorted(obj[k])
  return `${s}}`
}

/** hashEip3009's hex words before cpu18d (a substring and parseInt per byte). */
function putHexBefore(buf: Uint8Array, offset: number, hex: string): void {
  const start = offset + 32 - hex.length / 2
  for (let i = 0; i < hex.length; i += 2) buf[start + i / 2] = Number.parseInt(hex.slice(i, i + 2), 16)
}
const word = new Uint8Array(224)

/** encodeFrame before cpu18d: cborg's encode, then a copy behind the length. */
function cborgFrame(v: unknown): Buffer {
  const body = encode(v)
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32BE(body.length, 0)
  out.set(body, 4)
  return out
}

const [rounds, calls] = [Number(process.argv[2] ?? 7), Number(process.argv[3] ?? 4000)]
const run = await setup('.')
const r = await run.sample()
const text: string = r.persist.entries[0]
const { hash, mac, ...entry } = JSON.parse(text) as Record<string, unknown>
const canonical = canonicalJson(entry)
const seqs = new WeakMap<object, [number, number]>([[r.persist, [1, 1]]])
const result = { ...r.result, auditEntry: entry }
const ledger = new SpendLedger()
const responseFrame = { id: 12345, ...r }
const requestFrame = { id: 12345, msg: { type: 'agentSign', request: JSON.stringify({ v: 1, agentId: entry.agentId, wallet: entry.wallet, nonce: entry.requestId, typedData: (entry.action as object), pad: 'x'.repeat(500) }), signature: `s1:${'a'.repeat(32)}:${'b'.repeat(64)}` } }
const act = entry.action as Record<string, string>
const eip3009 = { entry: { chainId: 84532, asset: act.asset as `0x${string}`, name: 'USDC', version: '2', decimals: 6 }, primaryType: 'TransferWithAuthorization' as const, from: act.from as `0x${string}`, to: act.payTo as `0x${string}`, value: 10n, validAfter: 0n, validBefore: 1796226607n, nonce: act.nonce as `0x${string}` }
// enc34: the allowed entry's append with and without the schema parse; auditTurnTree before (createHash per hash).
const { hash: _h, mac: _m, seq: _s, prevHash: _p, walletSeq: _ws, walletPrev: _wp, ...body } = entry
const chain = new AuditChain({ signer: () => new Uint8Array(64) })
const oldHash = (tag: 0 | 1, ...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256').update(Uint8Array.of(tag))).digest()
function oldTree(heads: ReadonlyArray<{ seq: number; hash: string }>) {
  let level = heads.map((h) => oldHash(0, Buffer.from(h.seq.toString(16).padStart(16, '0') + h.hash.slice(2), 'hex')))
  const paths: Buffer[][] = heads.map(() => [])
  for (let width = 1; level.length > 1; width *= 2) {
    paths.forEach((p, i) => p.push(level[Math.floor(i / width) ^ 1] ?? level[Math.floor(i / width)]!))
    level = Array.from({ length: Math.ceil(level.length / 2) }, (_, j) => oldHash(1, level[2 * j]!, level[2 * j + 1] ?? level[2 * j]!))
  }
  return { root: level[0]!, paths }
}
const heads = Array.from({ length: 64 }, (_, i) => ({ seq: 1000 + i, hash: `0x${randomBytes(32).toString('hex')}` }))
if (!oldTree(heads).root.equals(auditTurnTree(heads).root)) throw new Error('turn roots differ')
const pairs: Record<string, [() => unknown, () => unknown]> = {
  'enclave: allowed entry append (schema parse → built)': [() => chain.append(body as AuditEntryBody), () => chain.append(body as AuditEntryBody, true)],
  'enclave: turn tree of 64 heads (createHash → hash), per turn': [() => oldTree(heads), () => auditTurnTree(heads)],
  'enclave: entry text (stringify → canonical + hash + mac)': [() => JSON.stringify({ ...entry, hash, mac }), () => `${canonical.slice(0, -1)},"hash":"${hash}","mac":"${mac}"}`],
  'enclave: block seqs for the release (2 parses → kept)': [() => [JSON.parse(text).seq, JSON.parse(text).seq], () => seqs.get(r.persist)],
  'enclave: canonicalJson of the entry (map/join → loops)': [() => canonicalBefore(entry), () => canonicalJson(entry)],
  'enclave: approval key lookup, wallet without pendings': [
    () => ledger.findPending(String(entry.agentId), approvalKey({ agentId: String(entry.agentId), host: null, action: entry.action as never })),
    () => ledger.findPending(String(entry.agentId), () => approvalKey({ agentId: String(entry.agentId), host: null, action: entry.action as never })),
  ],
  'host: entry parses per answer (2 → 1)': [() => [JSON.parse(text), JSON.parse(text)], () => JSON.parse(text)],
  'host: answer serializations (2 → 1)': [() => [JSON.stringify(result), JSON.stringify(result)], () => JSON.stringify(result)],
  'enclave: response frame (cborg → encodeCborFrame)': [() => cborgFrame(responseFrame), () => encodeFrame(responseFrame)],
  'host: request frame (cborg → encodeCborFrame)': [() => cborgFrame(requestFrame), () => encodeFrame(requestFrame)],
  'enclave: EIP-3009 digest (+ the old slice+parseInt hex words)': [
    () => { const a = entry.action as Record<string, string>; putHexBefore(word, 32, a.from!.slice(2)); putHexBefore(word, 64, a.payTo!.slice(2)); putHexBefore(word, 192, a.nonce!.slice(2)); return hashEip3009(eip3009) },
    () => hashEip3009(eip3009),
  ],
  'enclave: canonicalJson of the entry (sort() → insertion)': [() => canonicalSorted(entry), () => canonicalJson(entry)],
}
const us: Record<string, [number[], number[]]> = {}
const time = (f: () => unknown) => {
  const c0 = process.cpuUsage()
  for (let i = 0; i < calls; i++) f()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / calls
}
for (let round = 0; round < rounds; round++)
  for (const [name, [before, after]] of Object.entries(pairs)) {
    const u = (us[name] ??= [[], []])
    if (round % 2) u[1].push(time(after)), u[0].push(time(before))
    else u[0].push(time(before)), u[1].push(time(after))
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
for (const [name, [b, a]] of Object.entries(us)) console.log(`${name.padEnd(58)} ${med(b).toFixed(2).padStart(6)} → ${med(a).toFixed(2).padStart(6)} µs (saves ${(med(b) - med(a)).toFixed(1)})`)
