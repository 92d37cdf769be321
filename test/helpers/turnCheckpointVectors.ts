// turn18: turn checkpoints (one Ed25519 signature over a Merkle root of a turn's heads) made by the enclave's own
// AuditChain under the seed-0x07 key of docs/audit.md, with tampered copies and the verdict each must get. The Python
// SDK decides them from clients/python/tests/vectors/ts_turn_checkpoints.json (test_turn_checkpoints.py);
// shared/audit/auditTurnRoot.test.ts keeps the file current (`npx tsx scripts/genPythonReceiptVectors.ts`).
import { createPrivateKey, createPublicKey, sign } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'

export type TurnVector = { name: string; checkpoint: AuditCheckpoint; valid: boolean }

const SEED = Buffer.alloc(32, 7)
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
export const turnVectorKey = () => createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, SEED]), format: 'der', type: 'pkcs8' })
export const turnVectorPublicKeyHex = () => createPublicKey(turnVectorKey()).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex')

const body = (i: number): AuditEntryBody => ({
  time: 1_767_225_600_000 + i, stateVersion: 1, event: 'sign_denied', verdict: 'deny', wallet: null, agentId: null, action: null,
  reason: `turn vector ${i}`, policy: null, rule: null, code: 'policy_denied', signedHash: null, requestId: null, ledger: [],
} as AuditEntryBody)

/** Two turns (5 heads, then 2) on the root chain and one turn (3 heads) on a chain of its own, then tampered copies. */
export function turnCheckpointVectors(): { publicKey: string; vectors: TurnVector[] } {
  const key = turnVectorKey()
  const signer = (m: Uint8Array) => sign(null, m, key)
  const turns: AuditCheckpoint[][] = []
  for (const [chainId, sizes] of [[undefined, [5, 2]], ['0123456789abcdef0123456789abcdef', [3]]] as const) {
    const chain = new AuditChain({ signer, chain: chainId })
    let t = 0
    for (const n of sizes) {
      const heads = Array.from({ length: n }, () => { const r = chain.append(body(t++)); return { seq: r.entry.seq, hash: r.hash } })
      turns.push(chain.turnCheckpoints(1_767_225_700_000 + t, heads))
    }
  }
  const vectors: TurnVector[] = turns.flatMap((cps, t) => cps.map((checkpoint, i) => ({ name: `turn ${t} head ${i}`, checkpoint, valid: true })))
  const [a, b] = [turns[0]![1]!, turns[0]![3]!], other = turns[1]![0]!
  const parts = (cp: AuditCheckpoint) => cp.signature.split('.')
  const bad = (name: string, checkpoint: AuditCheckpoint) => vectors.push({ name, checkpoint, valid: false })
  bad('relabelled onto another answer of its turn (seq, head)', { ...a, seq: b.seq, head: b.head })
  bad('another index', { ...a, signature: [parts(a)[0], '0', ...parts(a).slice(2)].join('.') })
  bad('a path shortened by one level', { ...a, signature: parts(a).slice(0, -1).join('.') })
  bad("the turn's signature with another turn's path (entry moved between turns)", { ...other, signature: [parts(a)[0], ...parts(other).slice(1)].join('.') })
  bad('a turn checkpoint stripped of its path (read as a v1 checkpoint)', { ...a, signature: parts(a)[0]! })
  bad('another time', { ...a, time: a.time + 1 })
  bad('chain removed', (({ chain: _c, ...cp }) => cp)(turns[2]![1]!))
  bad('index past the path', { ...a, signature: [parts(a)[0], String(2 ** (parts(a).length - 2)), ...parts(a).slice(2)].join('.') })
  // rt33a (hostRespellsCheckpointSignature): the genuine signature, index and path in another spelling. Each verified
  // before the fix where no schema ran first (Number, Buffer hex), and the Python SDK took the upper-case ones.
  const [sig, index, ...path] = parts(a), p0 = plainOf(vectors)
  vectors.push({ name: 'one-block turn (plain form)', checkpoint: p0, valid: true })
  // rt33a: a level with an odd count pairs its last node with itself, so that node's side bit is free: head 4 of the
  // 5-head turn verifies at index 4…7 (the same seq, head, time and chain: another spelling of one claim, not another
  // claim). Pinned so the TS and Python verifiers agree; index 8 and up is past the path (refused above).
  const tail = turns[0]![4]!, [tailSig, , ...tailPath] = parts(tail)
  for (const i of [5, 7]) vectors.push({ name: `odd tail: head 4 of 5 at index ${i}`, checkpoint: { ...tail, signature: [tailSig, String(i), ...tailPath].join('.') }, valid: true })
  bad('odd tail: head 3 of 5 at index 7 (its sibling is not itself)', { ...turns[0]![3]!, signature: [parts(turns[0]![3]!)[0], '7', ...parts(turns[0]![3]!).slice(2)].join('.') })
  const respelt = (name: string, signature: string) => bad(`respelt: ${name}`, { ...a, signature })
  respelt('upper-case signature hex', [`0x${sig!.slice(2).toUpperCase()}`, index, ...path].join('.'))
  respelt('0X prefix', [`0X${sig!.slice(2)}`, index, ...path].join('.'))
  respelt('upper-case path hex', [sig, index, ...path.map((h) => h.toUpperCase())].join('.'))
  respelt('index with a leading zero', [sig, `0${index}`, ...path].join('.'))
  respelt('index in hex', [sig, `0x${index}`, ...path].join('.'))
  respelt('index with an exponent', [sig, `${index}e0`, ...path].join('.'))
  respelt('index with a space', [sig, ` ${index}`, ...path].join('.'))
  respelt('junk after the signature hex', [`${sig}zz`, index, ...path].join('.'))
  respelt('junk after the last sibling', [sig, index, ...path.slice(0, -1), `${path.at(-1)}zz`].join('.'))
  respelt('another two-character prefix', [`yy${sig!.slice(2)}`, index, ...path].join('.'))
  respelt('trailing newline', `${a.signature}\n`)
  respelt('empty index', `${sig}.`)
  bad('respelt: head in upper case', { ...a, head: `0x${a.head.slice(2).toUpperCase()}` })
  bad('respelt: head with bytes after it', { ...a, head: `${a.head}zz` })
  bad('respelt: plain checkpoint, upper-case hex', { ...p0, signature: `0x${p0.signature.slice(2).toUpperCase()}` })
  bad('respelt: plain checkpoint, trailing newline', { ...p0, signature: `${p0.signature}\n` })
  vectors.push(...mutated(vectors.filter((v) => v.valid).map((v) => v.checkpoint), 96))
  return { publicKey: turnVectorPublicKeyHex(), vectors }
}

/**
 * rt33a: a differential — `n` seeded random mutations of genuine checkpoints (a character changed, dropped or added
 * in the signature field, another index, two siblings swapped, seq/time ±1, chain added or removed, another turn's
 * path), each with the verdict the TypeScript verifier gives it (not schema-checked first: verifyAuditCheckpoint must
 * decide alone). The Python SDK must give the same verdict (5,000 such agreed when this was written).
 */
function mutated(valid: AuditCheckpoint[], n: number): TurnVector[] {
  let seed = 12_345
  const rnd = (k: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % k)
  const chars = '0123456789abcdefABCDEFx.X \n-+e', key = createPublicKey(turnVectorKey())
  return Array.from({ length: n }, (_, k) => {
    const cp: Record<string, unknown> = { ...valid[rnd(valid.length)]! }, m = rnd(9)
    let s = cp.signature as string, p = s.split('.')
    const at = rnd(s.length), c = chars[rnd(chars.length)]!
    if (m === 0) s = s.slice(0, at) + c + s.slice(at + 1)
    if (m === 1) s = s.slice(0, at) + s.slice(at + 1)
    if (m === 2) s = s.slice(0, at) + c + s.slice(at)
    if (m === 3 && p.length > 1) s = [p[0], String(rnd(40)), ...p.slice(2)].join('.')
    if (m === 4 && p.length > 3) { const [a, b] = [rnd(p.length - 2) + 2, rnd(p.length - 2) + 2]; [p[a], p[b]] = [p[b]!, p[a]!]; s = p.join('.') }
    if (m === 5) cp.seq = (cp.seq as number) + rnd(3) - 1
    if (m === 6) cp.time = (cp.time as number) + rnd(3) - 1
    if (m === 7) { if (cp.chain) delete cp.chain; else cp.chain = '0123456789abcdef0123456789abcdef' }
    if (m === 8) s = [p[0], ...valid[rnd(valid.length)]!.signature.split('.').slice(1)].join('.')
    const checkpoint = { ...cp, signature: s } as AuditCheckpoint
    return { name: `mutation ${k} (kind ${m})`, checkpoint, valid: verifyAuditCheckpoint(checkpoint, key) }
  })
}

/** A plain checkpoint (a one-block turn keeps the v1 form) made by the same key on a chain of its own. */
function plainOf(vectors: TurnVector[]): AuditCheckpoint {
  const chain = new AuditChain({ signer: (m) => sign(null, m, turnVectorKey()) })
  const r = chain.append(body(vectors.length))
  return chain.turnCheckpoints(1_767_225_800_000, [{ seq: r.entry.seq, hash: r.hash }])[0]!
}
