// turn18: turn checkpoints (one Ed25519 signature over a Merkle root of a turn's heads) made by the enclave's own
// AuditChain under the seed-0x07 key of docs/audit.md, with tampered copies and the verdict each must get. The Python
// SDK decides them from clients/python/tests/vectors/ts_turn_checkpoints.json (test_turn_checkpoints.py);
// shared/audit/auditTurnRoot.test.ts keeps the file current (`npx tsx scripts/genPythonReceiptVectors.ts`).
import { createPrivateKey, createPublicKey, sign } from 'node:crypto'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditCheckpoint, AuditEntryBody } from '../../shared/audit/auditEntry.js'

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
  return { publicKey: turnVectorPublicKeyHex(), vectors }
}
