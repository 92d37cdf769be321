import { auditTurnHash, auditTurnLeaf } from './auditTurnTree.js'

/**
 * turn18: the root a turn checkpoint's path leads to from its head (the tree: auditTurnTree). Bit k of `index` says
 * whether the node at level k is a right child (its sibling `path[k]` on the left). 32 bytes.
 */
export function auditTurnRoot(seq: number, head: string, index: number, path: readonly Uint8Array[]): Buffer {
  let node = auditTurnLeaf(seq, head)
  for (let k = 0; k < path.length; k++) node = (Math.floor(index / 2 ** k) & 1) === 1 ? auditTurnHash(1, path[k]!, node) : auditTurnHash(1, node, path[k]!)
  return node
}
