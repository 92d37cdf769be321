import { type Hex, createTestClient, getAddress, http } from 'viem'
import { compileDevContracts } from './installX402Permit2.js'

/**
 * Dev-chain fixture: x402 batch-settlement on a local anvil — bursar's own test escrow and EIP-3009 and Permit2
 * deposit collectors (Permit2 itself: installX402Permit2) (`contracts/DevX402BatchSettlement.sol`, implementing the interface the reference facilitator in
 * `@x402/evm` calls; no package ships the real ones) at the canonical addresses `@x402/evm` uses, and Multicall3's
 * `tryAggregate` at its canonical address (the facilitator reads channel state through it; anvil has none).
 * Compiled with solc-js and placed with `anvil_setCode` (no constructor runs).
 */
export const X402_BATCH_SETTLEMENT = getAddress('0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003')
export const X402_BATCH_ERC3009_COLLECTOR = getAddress('0x4020806089470a89826cB9fB1f4059150b550004')
export const X402_BATCH_PERMIT2_COLLECTOR = getAddress('0x4020425FAf3B746C082C2f942b4E5159887B0005')
export const MULTICALL3 = getAddress('0xcA11bde05977b3631167028862bE2a173976CA11')

let compiled: Record<string, Hex> | undefined

export async function installX402BatchSettlement(params: { rpcUrl: string }): Promise<void> {
  compiled ??= compileDevContracts('DevX402BatchSettlement.sol', ['DevX402BatchSettlement', 'DevX402Erc3009DepositCollector', 'DevX402Permit2DepositCollector', 'DevMulticall3'])
  const test = createTestClient({ mode: 'anvil', transport: http(params.rpcUrl) })
  await test.setCode({ address: X402_BATCH_SETTLEMENT, bytecode: compiled.DevX402BatchSettlement! })
  await test.setCode({ address: X402_BATCH_ERC3009_COLLECTOR, bytecode: compiled.DevX402Erc3009DepositCollector! })
  await test.setCode({ address: X402_BATCH_PERMIT2_COLLECTOR, bytecode: compiled.DevX402Permit2DepositCollector! })
  await test.setCode({ address: MULTICALL3, bytecode: compiled.DevMulticall3! })
}
