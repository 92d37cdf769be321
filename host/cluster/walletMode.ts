/**
 * UNTRUSTED: wiring of per-wallet lease mode (BURSAR_CLUSTER_LEASES=wallet, issue 15 step 4) between the host's
 * gateway and its WalletLeaseKeeper.
 */
import type { EnclaveGateway, GatewayLease } from '../enclave/EnclaveGateway.js'
import type { PostgresStore } from '../storage/PostgresStore.js'
import type { WalletHost, WalletLeaseKeeper } from './WalletLeaseKeeper.js'

/**
 * The chain this pair's enclave writes. Every pair writes its own chain, started from the lineage's root core
 * (`own`); on a fresh database there is no lineage yet: one pair — the one that takes the `lineage` row of the
 * group lease table, a bootstrap lock held for a minute and never renewed — starts it on the root chain (`''`),
 * the others wait for its first core.
 */
export async function chainForWalletMode(store: PostgresStore, node: string, log: (line: string) => void): Promise<'' | 'own'> {
  for (let i = 0; ; i++) {
    if (await store.latestSnapshot()) return 'own'
    if (await store.acquireLease('lineage', node, '', 60_000)) {
      log('per-wallet mode: no lineage in the store yet; this pair starts it on the root chain')
      return ''
    }
    if (i % 20 === 0) log('per-wallet mode: waiting for the pair that starts the lineage to store its first core')
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** What the gateway needs from the keeper: no wallet-group lease to wait for; a lost wallet lease is crash-only. */
export function gatewayLeaseOf(keeper: WalletLeaseKeeper): GatewayLease {
  return {
    waitHeld: () => Promise.resolve(),
    check: () => {
      if (keeper.role === 'lost') keeper.check('') // throws lease_not_held
    },
    lost: (why) => keeper.lost(why),
  }
}

/** The keeper's view of the enclave: ready (own chain started), load, drop, and the wallets it holds. */
export function walletHostOf(gateway: EnclaveGateway): WalletHost {
  return {
    async waitReady() {
      while (!gateway.status.ready) await new Promise((r) => setTimeout(r, 100))
    },
    loadWallet: (wallet) => gateway.loadWallet(wallet),
    dropWallet: (wallet) => gateway.dropWallet(wallet),
    async wallets() {
      const r = await gateway.call({ type: 'getWallets' })
      return r.ok ? r.result.wallets.map((w) => w.address.toLowerCase()) : null
    },
  }
}
