import type { AgentRequest } from '../../shared/schemas/agentRequest.js'
import type { TokenRegistryEntry } from '../../shared/schemas/tokenRegistry.js'

/** Test/bench fixtures: anvil's first key and Base Sepolia USDC. Never used for real keys. */
export const MOCK_PRIVATE_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const
export const MOCK_WALLET = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const
export const MOCK_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as const
export const MOCK_PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' as const
export const MOCK_REGISTRY: TokenRegistryEntry[] = [
  { chainId: 84532, asset: MOCK_USDC, name: 'USDC', version: '2', decimals: 6, symbol: 'USDC' },
  { chainId: 1, asset: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', name: 'USD Coin', version: '2', decimals: 6 },
]

type Body =
  | Pick<Extract<AgentRequest, { op: 'signTypedData' }>, 'op' | 'typedData'>
  | Pick<Extract<AgentRequest, { op: 'signTransaction' }>, 'op' | 'transaction'>
  | Pick<Extract<AgentRequest, { op: 'signMessage' }>, 'op' | 'message'>

/** Wraps an op body in an AgentRequest envelope for MOCK_WALLET (tests and benchmarks only). */
export function mockSignRequest(body: Body, context?: AgentRequest['context']): AgentRequest {
  return {
    v: 1,
    agentId: `agt_${'ab'.repeat(20)}`,
    wallet: MOCK_WALLET,
    nonce: '0123456789abcdef0123456789abcdef',
    issuedAt: 1_700_000_000_000,
    expiresAt: 1_700_000_030_000,
    ...(context ? { context } : {}),
    ...body,
  } as AgentRequest
}
