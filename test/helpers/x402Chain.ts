import type { Address, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createPayingFetch } from '../../agent/createPayingFetch.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../../scripts/devchain/deployFiatToken.js'
import { installX402BatchSettlement } from '../../scripts/devchain/installX402BatchSettlement.js'
import { approvePermit2AsOwner, installX402Permit2 } from '../../scripts/devchain/installX402Permit2.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { type StartAnvilReturnType, startAnvil } from '../../scripts/devchain/startAnvil.js'
import { type PaidRoute, type StartPaidApiReturnType, startPaidApi } from '../../scripts/devchain/startPaidApi.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import type { SetupAgentParameters } from '../../scripts/devchain/setupAgent.js'
import { auditEntries, waitAgentFloor } from './agentClient.js'
import { type Stack, startStack } from './startStack.js'

export type X402Chain = {
  anvil: StartAnvilReturnType
  token: DeployFiatTokenReturnType
  stack: Stack
  owner: ReturnType<typeof privateKeyToAccount>
  /** The bursar wallet: funded with 1,000,000 base units, Permit2 approved for the token. */
  wallet: Address
  merchant: Address
  stranger: Address
  /** Four distinct facilitator keys: a merchant server names one (default the first). */
  facilitators: Hex[]
  /** Every URL the paying fetch sent a payment header to, in order. */
  paidUrls: string[]
  /** A reference x402 resource server on this chain's token (stopped with the chain). */
  paidApi: (p: { payTo: Address; price: bigint; routes: Record<string, PaidRoute>; facilitator?: number }) => Promise<StartPaidApiReturnType>
  /** Registers the agent under `policy` (owner-signed) and waits out the agent-request floor. */
  addAgent: (policy: SetupAgentParameters['policy']) => Promise<AgentKey>
  /** The reference @x402/fetch client with bursar's account, recording `paidUrls`. */
  payingFetch: (agentKey: AgentKey, schemes?: Parameters<typeof createPayingFetch>[0]['schemes']) => ReturnType<typeof createPayingFetch>
  /** The agent's `sign_allowed` audit entries. */
  allowed: (agentKey: AgentKey) => Promise<AuditEntry[]>
  stop: () => Promise<void>
}

/**
 * The x402 e2e fixture: anvil with Circle's FiatTokenV2_2, canonical Permit2 and bursar's test x402 proxies (and the
 * batch-settlement escrow when asked), a real host + enclave, an owner's funded wallet, and reference x402 resource
 * servers whose reference facilitators settle on that chain.
 */
export async function startX402Chain(p: { chainId: number; batchSettlement?: boolean }): Promise<X402Chain> {
  const anvil = await startAnvil({ chainId: p.chainId })
  const servers: StartPaidApiReturnType[] = []
  let stack: Stack | undefined
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()))
    await stack?.stop()
    await anvil.stop()
  }
  try {
    const [deployer, admin, facilitator, ownerKey, merchantKey, strangerKey, facilitator2, facilitator3, facilitator4] = anvil.accounts
    const token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    if (p.batchSettlement) await installX402BatchSettlement({ rpcUrl: anvil.rpcUrl })
    await installX402Permit2({ rpcUrl: anvil.rpcUrl })
    const owner = privateKeyToAccount(ownerKey!)
    stack = await startStack()
    const url = stack.url
    const wallet = (await new OwnerClient(url, owner).createWallet('agents')).wallet
    await token.mint(wallet, 1_000_000n)
    // The wallet's one-time approval of Permit2 (tests: sent through anvil's impersonation).
    await approvePermit2AsOwner({ rpcUrl: anvil.rpcUrl, token: token.address, owner: wallet })
    const facilitators = [facilitator!, facilitator2!, facilitator3!, facilitator4!]
    const paidUrls: string[] = []
    const spy: typeof fetch = async (input, init) => {
      const h = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
      if (h.get('PAYMENT-SIGNATURE') || h.get('X-PAYMENT')) paidUrls.push(String(input instanceof Request ? input.url : input))
      return fetch(input, init)
    }
    return {
      anvil,
      token,
      stack,
      owner,
      wallet,
      merchant: privateKeyToAccount(merchantKey!).address,
      stranger: privateKeyToAccount(strangerKey!).address,
      facilitators,
      paidUrls,
      paidApi: async (o) => {
        const api = await startPaidApi({
          rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, v1: false,
          facilitatorKey: facilitators[o.facilitator ?? 0]!, payTo: o.payTo, price: o.price, routes: o.routes,
        })
        servers.push(api)
        return api
      },
      addAgent: async (policy) => {
        const { agentKey } = await setupAgent({ host: url, owner, wallet, policy })
        await waitAgentFloor()
        return agentKey
      },
      payingFetch: (agentKey, schemes) => createPayingFetch({ host: url, agentKey, wallet, fetch: spy, ...(schemes ? { schemes } : {}) }),
      allowed: async (agentKey) => (await auditEntries(url, owner, { agent: agentKey.agentId })).filter((e) => e.event === 'sign_allowed'),
      stop,
    }
  } catch (e) {
    await stop().catch(() => {})
    throw e
  }
}
