/**
 * turn18: CPU of a turn's checkpoints, signed (enclave) and verified (SDK / auditor), per answer: n plain checkpoints
 * (one Ed25519 signature each, turn15) against one turn checkpoint set (one signature over the Merkle root, a path
 * each; verified once, then from the cache). Rounds interleave the two; CPU µs per answer, medians and ranges.
 *   npx tsx scripts/bench/turnCheckpointCost.ts [rounds=7] [turn size=64] [turns per round=40]
 */
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import { loadavg } from 'node:os'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntryBody, AuditHead } from '../../shared/audit/auditEntry.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'

const [rounds, n, turns] = [Number(process.argv[2] ?? 7), Number(process.argv[3] ?? 64), Number(process.argv[4] ?? 40)]
const { privateKey } = generateKeyPairSync('ed25519')
const chain = new AuditChain({ signer: (m) => sign(null, m, privateKey) })
const body = { time: 1, stateVersion: 1, event: 'sign_denied', verdict: 'deny', wallet: null, agentId: null, action: null, reason: null, policy: null, rule: null, code: 'x', signedHash: null, requestId: null, ledger: [] } as unknown as AuditEntryBody
const heads: AuditHead[] = Array.from({ length: n }, () => { const r = chain.append(body); return { seq: r.entry.seq, hash: r.hash } })
const cpu = (f: () => void): number => { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); return (c.user + c.system) / (turns * n) }
const modes = {
  plain: { sign: () => heads.map((h) => chain.checkpoint(1000, h)) },
  turn: { sign: () => chain.turnCheckpoints(1000, heads) },
}
const res: Record<string, { sign: number[]; verify: number[] }> = { plain: { sign: [], verify: [] }, turn: { sign: [], verify: [] } }
for (let r = 0; r < rounds; r++)
  for (const name of (r % 2 ? ['turn', 'plain'] : ['plain', 'turn']) as Array<keyof typeof modes>) {
    let cps: AuditCheckpoint[] = []
    res[name]!.sign.push(cpu(() => { for (let t = 0; t < turns; t++) cps = modes[name].sign() }))
    // A fresh key object per turn: nothing cached from an earlier turn (the SDK verifies each turn's signature once).
    const keys = Array.from({ length: turns }, () => createPublicKey(privateKey))
    res[name]!.verify.push(cpu(() => { for (let t = 0; t < turns; t++) for (const cp of cps) if (!verifyAuditCheckpoint(cp, keys[t]!)) throw new Error('bad') }))
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (xs: number[]) => `${med(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}]`
console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; turn of ${n}, ${turns} turns per round, ${rounds} rounds; CPU µs per answer, median [min–max]`)
for (const name of ['plain', 'turn']) console.log(`${name.padEnd(5)} sign ${fmt(res[name]!.sign)}  verify ${fmt(res[name]!.verify)}`)
