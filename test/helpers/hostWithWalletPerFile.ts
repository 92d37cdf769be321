import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll } from 'vitest'
import { hostWithWallet } from './governanceRelay.js'
import type { MaliciousHost } from './maliciousHost.js'

/** hostWithWallet for a whole test file (beforeAll / afterAll): read `s.host`, `s.owner`, `s.wallet` inside the tests. */
export function hostWithWalletPerFile(env: () => Record<string, string> = () => ({})): { host: MaliciousHost; owner: LocalAccount; wallet: Hex } {
  const s = {} as { host: MaliciousHost; owner: LocalAccount; wallet: Hex }
  beforeAll(async () => {
    Object.assign(s, await hostWithWallet(env()))
  })
  afterAll(async () => {
    await s.host?.stop()
  })
  return s
}
