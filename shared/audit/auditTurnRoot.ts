import { createHash } from 'node:crypto'

/**
 * turn18: one Ed25519 signature per enclave turn. The blocks completing in one event-loop turn are the leaves of a
 * binary Merkle tree; the enclave signs its root once and each block's checkpoint carries its own leaf's path
 * (docs/audit.md "Turn checkpoint"):
 *   leaf = SHA-256(0x00 ‖ uint64be(seq) ‖ head)      node = SHA-256(0x01 ‖ left ‖ right)
 * A level with an odd count pairs its last node with itself. Bit k of `index` says whether the node at level k is a
 * right child (its sibling `path[k]` on the left). Returns the root as 32 bytes.
 */
export function auditTurnRoot(seq: number, head: Uint8Array, index: number, path: readonly Uint8Array[]): Buffer {
  let node = auditTurnLeaf(seq, head)
  for (let k = 0; k < path.length; k++) node = (Math.floor(index / 2 ** k) & 1) === 1 ? auditTurnNode(path[k]!, node) : auditTurnNode(node, path[k]!)
  return node
}

export function auditTurnLeaf(seq: number, head: Uint8Array): Buffer {
  const b = Buffer.alloc(41)
  b.writeBigUInt64BE(BigInt(seq), 1)
  b.set(head, 9)
  return createHash('sha256').update(b).digest()
}

export function auditTurnNode(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(ONE).update(left).update(right).digest()
}

const ONE = Buffer.from([1])
