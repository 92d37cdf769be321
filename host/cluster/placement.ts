import { createHash } from 'node:crypto'

/**
 * UNTRUSTED: rendezvous (highest random weight) hashing of a wallet onto the live hosts: every host computes the
 * same preferred host from the same list, and when a host joins or leaves only the wallets it wins or held move.
 * Ties (never in practice: 64-bit scores) go to the smaller node name.
 */
export function preferredHost(wallet: string, nodes: readonly string[]): string | null {
  let best: string | null = null
  let bestScore = -1n
  for (const node of nodes) {
    const score = createHash('sha256').update(`${wallet.toLowerCase()}\n${node}`).digest().readBigUInt64BE(0)
    if (score > bestScore || (score === bestScore && best !== null && node < best)) {
      best = node
      bestScore = score
    }
  }
  return best
}
