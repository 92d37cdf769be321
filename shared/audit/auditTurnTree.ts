import { auditTurnLeaf, auditTurnNode } from './auditTurnRoot.js'

/** The Merkle tree over a turn's heads (auditTurnRoot has the rule): its root and, per head, the siblings leaf to root. */
export function auditTurnTree(heads: ReadonlyArray<{ seq: number; hash: string }>): { root: Buffer; paths: Buffer[][] } {
  let level = heads.map((h) => auditTurnLeaf(h.seq, Buffer.from(h.hash.slice(2), 'hex')))
  const paths: Buffer[][] = heads.map(() => [])
  for (let width = 1; level.length > 1; width *= 2) {
    heads.forEach((_, i) => {
      const at = Math.floor(i / width)
      paths[i]!.push(level[at ^ 1] ?? level[at]!)
    })
    level = Array.from({ length: Math.ceil(level.length / 2) }, (_, j) => auditTurnNode(level[2 * j]!, level[2 * j + 1] ?? level[2 * j]!))
  }
  return { root: level[0]!, paths }
}
