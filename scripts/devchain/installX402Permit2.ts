import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { packageRoot } from '../lib/packageRoot.js'
import {
  type Address,
  type Hex,
  createPublicClient,
  createTestClient,
  createWalletClient,
  erc20Abi,
  getAddress,
  http,
  maxUint256,
  parseEther,
} from 'viem'

/**
 * Dev-chain fixture: the canonical Permit2 and the x402 exact / upto Permit2
 * proxies at the addresses `@x402/evm` uses, on a local anvil.
 *
 * - Permit2: its runtime code as shipped in `@uniswap/v4-periphery` 1.0.3
 *   (`lib/permit2/test/utils/DeployPermit2.sol`, Uniswap's own "etch the
 *   precompiled bytecode" helper), read from the installed package at run time.
 *   Its EIP-712 domain separator is rebuilt when `block.chainid` differs from
 *   the cached one, so the code works on any chain id.
 * - The proxies: no package ships them. `contracts/DevX402Permit2Proxies.sol`
 *   is bursar's own test implementation of the interface the reference
 *   facilitator calls, compiled here with solc-js (from npm, offline).
 *
 * All three are placed with `anvil_setCode` (no constructor runs).
 */
export const PERMIT2_ADDRESS = getAddress('0x000000000022D473030F116dDEE9F6B43aC78BA3')
export const X402_EXACT_PERMIT2_PROXY = getAddress('0x402085c248EeA27D92E8b30b2C58ed07f9E20001')
export const X402_UPTO_PERMIT2_PROXY = getAddress('0x4020A4f3b7b90ccA423B9fabCc0CE57C6C240002')

export type X402Permit2Code = { permit2: Hex; exactProxy: Hex; uptoProxy: Hex }

let compiled: X402Permit2Code | undefined

/** Permit2's runtime code from the installed `@uniswap/v4-periphery` (the hex literal its DeployPermit2 helper etches). */
export function permit2RuntimeCode(): Hex {
  const require = createRequire(import.meta.url)
  const pkg = dirname(require.resolve('@uniswap/v4-periphery/package.json'))
  const source = readFileSync(join(pkg, 'lib/permit2/test/utils/DeployPermit2.sol'), 'utf8')
  const m = /bytes memory bytecode\s*=\s*hex"([0-9a-fA-F]+)"/.exec(source)
  if (!m?.[1]) throw new Error('Permit2 runtime code not found in @uniswap/v4-periphery DeployPermit2.sol')
  return `0x${m[1].toLowerCase()}`
}

/** Compiles one of bursar's test contract files (scripts/devchain/contracts) with solc-js (cancun, optimizer on): runtime code by contract name. */
export function compileDevContracts(file: string, names: readonly string[]): Record<string, Hex> {
  const require = createRequire(import.meta.url)
  const solc = require('solc') as { compile: (input: string) => string }
  // From the package root, not this module's directory: the compiled CLI (dist/cli) runs this code too.
  const dir = join(packageRoot(import.meta.url), 'scripts/devchain/contracts')
  // Every file of the folder is a source, so `import "./X.sol"` between them resolves.
  const sources = Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.sol')).map((f) => [f, { content: readFileSync(join(dir, f), 'utf8') }]))
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { [file]: { '*': ['evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } },
    },
  }
  type Out = {
    errors?: { severity: string; formattedMessage: string }[]
    contracts: Record<string, Record<string, { evm: { deployedBytecode: { object: string; immutableReferences?: Record<string, unknown> } } }>>
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as Out
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`)
  const runtime = (name: string): Hex => {
    const c = out.contracts[file]?.[name]
    if (!c) throw new Error(`solc produced no ${name}`)
    // Placed with anvil_setCode: nothing may depend on a constructor (no immutables).
    if (Object.keys(c.evm.deployedBytecode.immutableReferences ?? {}).length > 0) throw new Error(`${name} has immutables`)
    return `0x${c.evm.deployedBytecode.object}`
  }
  return Object.fromEntries(names.map((n) => [n, runtime(n)]))
}

/** Compiles bursar's test proxies; cached per process. */
export function x402Permit2Code(): X402Permit2Code {
  if (compiled) return compiled
  const c = compileDevContracts('DevX402Permit2Proxies.sol', ['DevX402ExactPermit2Proxy', 'DevX402UptoPermit2Proxy'])
  compiled = { permit2: permit2RuntimeCode(), exactProxy: c.DevX402ExactPermit2Proxy!, uptoProxy: c.DevX402UptoPermit2Proxy! }
  return compiled
}

/** Places Permit2 and both x402 proxies at their canonical addresses on the anvil at `rpcUrl`. */
export async function installX402Permit2(params: { rpcUrl: string }): Promise<X402Permit2Code> {
  const code = x402Permit2Code()
  const test = createTestClient({ mode: 'anvil', transport: http(params.rpcUrl) })
  await test.setCode({ address: PERMIT2_ADDRESS, bytecode: code.permit2 })
  await test.setCode({ address: X402_EXACT_PERMIT2_PROXY, bytecode: code.exactProxy })
  await test.setCode({ address: X402_UPTO_PERMIT2_PROXY, bytecode: code.uptoProxy })
  return code
}

/**
 * The payer's one-time `approve(Permit2, max)` on `token`, sent as the payer
 * through anvil's impersonation (tests only: a real wallet sends this
 * transaction once, or lets the facilitator sponsor it). Returns the tx hash.
 */
export async function approvePermit2AsOwner(params: { rpcUrl: string; token: Address; owner: Address; amount?: bigint | undefined }): Promise<Hex> {
  const transport = http(params.rpcUrl)
  const test = createTestClient({ mode: 'anvil', transport })
  const pub = createPublicClient({ transport })
  const chainId = await pub.getChainId()
  const chain = { id: chainId, name: `anvil-${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [params.rpcUrl] } } }
  if ((await pub.getBalance({ address: params.owner })) < parseEther('0.01')) await test.setBalance({ address: params.owner, value: parseEther('1') })
  await test.impersonateAccount({ address: params.owner })
  try {
    const wallet = createWalletClient({ chain, transport, account: params.owner })
    const hash = await wallet.writeContract({ address: params.token, abi: erc20Abi, functionName: 'approve', args: [PERMIT2_ADDRESS, params.amount ?? maxUint256] })
    const receipt = await pub.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`approve(Permit2) reverted: ${hash}`)
    return hash
  } finally {
    await test.stopImpersonatingAccount({ address: params.owner })
  }
}
