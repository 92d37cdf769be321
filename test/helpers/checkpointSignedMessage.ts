import { createHash } from 'node:crypto'
import { auditCheckpointMessage, auditTurnMessage } from '../../shared/audit/auditCheckpointMessage.js'

/**
 * The bytes a stored checkpoint's Ed25519 signature covers and that signature, folded here by hand (tests that check
 * the enclave's output independently of verifyAuditCheckpoint): the plain form's checkpoint message, or for a turn
 * checkpoint (turn18, docs/audit.md "Turn checkpoints") the turn message over the root its path leads to.
 */
export function checkpointSignedMessage(c: { seq: number; head: string; time: number; signature: string }, chain?: string): { message: Uint8Array; signature: Buffer } {
  const [sig, index, ...path] = c.signature.split('.')
  const signature = Buffer.from(sig!.slice(2), 'hex')
  if (index === undefined) return { message: auditCheckpointMessage({ seq: c.seq, head: c.head, time: c.time, chain }), signature }
  const sha = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest()
  let node = sha(Buffer.from([0]), Buffer.from(c.seq.toString(16).padStart(16, '0'), 'hex'), Buffer.from(c.head.slice(2), 'hex'))
  path.forEach((h, k) => (node = (Number(index) >> k) & 1 ? sha(Buffer.from([1]), Buffer.from(h, 'hex'), node) : sha(Buffer.from([1]), node, Buffer.from(h, 'hex'))))
  return { message: auditTurnMessage({ root: `0x${node.toString('hex')}`, time: c.time, chain }), signature }
}
