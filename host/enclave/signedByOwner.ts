import type { OwnerActBody } from '../../shared/protocol/messages.js'
import { ownerActSigner } from './ownerActSigner.js'

type Owned = { address: string; ownerSeq?: number; governance: { owners: readonly string[] } }

/**
 * UNTRUSTED, host-only (scope38): whether an owner act is signed by one of the owners of the wallet it names, as this
 * host last read them (`getWallets`, at most once per `maxAgeMs`). Only the order of the host's own relay queue reads
 * it (host/enclave/relayOwnerAct.ts: an owner's act waits ahead of others'); governance verifies every act and decides.
 * A CreateWallet (its own lane) and a new key's ImportWallet (no owners yet) are never an owner's here.
 */
export function signedByOwner(wallets: () => Promise<readonly Owned[] | null>, maxAgeMs = 1_000): (body: OwnerActBody) => Promise<boolean> {
  type Known = { owners: Set<string>; seq: number }
  let read: { at: number; owners: Promise<Map<string, Known>> } | null = null
  const ownersNow = () => {
    if (!read || Date.now() - read.at > maxAgeMs) {
      const owners = wallets().then(
        (ws) => new Map((ws ?? []).map((w) => [w.address.toLowerCase(), { owners: new Set(w.governance.owners.map((o) => o.toLowerCase())), seq: w.ownerSeq ?? -1 }])),
        () => new Map<string, Known>(),
      )
      read = { at: Date.now(), owners }
    }
    return read.owners
  }
  return async (body) => {
    // lanes39: no recovery for an act naming a wallet with no owners read (a flood on a made-up wallet's lane).
    let named: unknown
    try {
      const m: unknown = JSON.parse(body.message)
      named = m && typeof m === 'object' ? ((m as Record<string, unknown>).wallet ?? (m as Record<string, unknown>).address) : undefined
    } catch {}
    if (typeof named !== 'string' || !(await ownersNow()).has(named.toLowerCase())) return false
    const act = await ownerActSigner(body)
    if (!act || act.primaryType === 'CreateWallet') return false
    const known = (await ownersNow()).get(act.wallet)
    // rt39: an act at or below the wallet's owner sequence (an owner's applied act, replayed) is not an owner's here.
    return known !== undefined && known.owners.has(act.signer) && (act.seq === null || act.seq > known.seq)
  }
}
