import { createPublicKey, sign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { AuditChain } from '../../core/audit/AuditChain.js'
import { turnCheckpointVectors, turnVectorKey } from '../../test/helpers/turnCheckpointVectors.js'
import { TURN_VECTORS_FILE } from '../../scripts/genPythonReceiptVectors.js'
import { AuditCheckpointSchema } from './auditCheckpoint.js'
import { auditTurnMessage } from './auditCheckpointMessage.js'
import { verifyAuditCheckpoint } from './verifyAuditCheckpoint.js'

const key = turnVectorKey()
const pub = createPublicKey(key)

/** An independent fold (noble's SHA-256 and Ed25519) of docs/audit.md's turn checkpoint rule. */
function independentlyValid(cp: { seq: number; head: string; time: number; chain?: string; signature: string }, publicKey: Uint8Array): boolean {
  const [sig, index, ...path] = cp.signature.split('.')
  let node = sha256(new Uint8Array([0, ...Buffer.from(cp.seq.toString(16).padStart(16, '0'), 'hex'), ...Buffer.from(cp.head.slice(2), 'hex')]))
  path.forEach((h, k) => {
    const s = Buffer.from(h, 'hex')
    node = sha256(new Uint8Array([1, ...((Number(index) >> k) & 1 ? [...s, ...node] : [...node, ...s])]))
  })
  if (Number(index) >= 2 ** path.length) return false
  const msg = auditTurnMessage({ root: `0x${Buffer.from(node).toString('hex')}`, time: cp.time, chain: cp.chain })
  return ed25519.verify(Buffer.from(sig!.slice(2), 'hex'), msg, publicKey)
}

describe('turn checkpoints (turn18): one signature over a Merkle root of the turn’s heads', () => {
  it('every head of turns of 1…17 blocks verifies with its own path, by the verifier and by independent code; one signature per turn', () => {
    const chain = new AuditChain({ signer: (m) => sign(null, m, key) })
    const raw = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32)
    for (let n = 1; n <= 17; n++) {
      const heads = Array.from({ length: n }, (_, i) => {
        const r = chain.append({ time: i, stateVersion: 1, event: 'sign_denied', verdict: 'deny', wallet: null, agentId: null, action: null, reason: null, policy: null, rule: null, code: 'x', signedHash: null, requestId: null, ledger: [] } as never)
        return { seq: r.entry.seq, hash: r.hash }
      })
      const cps = chain.turnCheckpoints(1000 + n, heads)
      expect(cps.map((c) => [c.seq, c.head])).toEqual(heads.map((h) => [h.seq, h.hash]))
      expect(new Set(cps.map((c) => c.signature.split('.')[0])).size).toBe(1)
      for (const cp of cps) {
        expect(AuditCheckpointSchema.safeParse(cp).success).toBe(true)
        expect(verifyAuditCheckpoint(cp, pub)).toBe(true)
        if (n > 1) expect(independentlyValid(cp, raw)).toBe(true)
        expect(cp.signature.split('.').length).toBe(n === 1 ? 1 : 2 + Math.ceil(Math.log2(n))) // one block: the v1 form
      }
    }
  })

  it('the committed vectors (Python SDK) are current and each verdict holds, before and after the turn’s signature is cached', () => {
    const fresh = turnCheckpointVectors()
    expect(`${JSON.stringify(fresh, null, 1)}\n`).toBe(readFileSync(TURN_VECTORS_FILE, 'utf8'))
    for (const pass of [1, 2]) for (const v of fresh.vectors) expect([pass, v.name, verifyAuditCheckpoint(v.checkpoint, pub)]).toEqual([pass, v.name, v.valid])
    // Tampered first (nothing cached), then genuine: a cached turn signature never vouches for another message.
    const tampered = fresh.vectors.filter((v) => !v.valid)
    const other = createPublicKey(key) // the same key, another object: nothing cached for it
    for (const v of tampered) expect(verifyAuditCheckpoint(v.checkpoint, other)).toBe(false)
  })

  it('the cache is per key: a turn verified under one key does not pass under another', () => {
    const { vectors } = turnCheckpointVectors()
    const good = vectors.find((v) => v.valid && v.checkpoint.signature.includes('.'))!.checkpoint
    expect(verifyAuditCheckpoint(good, pub)).toBe(true)
    const stranger = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(ed25519.getPublicKey(Buffer.alloc(32, 9)))]), format: 'der', type: 'spki' })
    expect(verifyAuditCheckpoint(good, stranger)).toBe(false)
  })
})
