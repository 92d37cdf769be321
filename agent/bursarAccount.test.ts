import {
  type Hex,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  erc20Abi,
  http,
  parseGwei,
  recoverMessageAddress,
  recoverTypedDataAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DeployFiatTokenReturnType, deployFiatToken } from '../scripts/devchain/deployFiatToken.js'
import { type StartAnvilReturnType, startAnvil } from '../scripts/devchain/startAnvil.js'
import { bursarAccount } from './bursarAccount.js'
import { generateAgentKey } from './generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostReturnType, mockBursarHost } from './mockBursarHost.js'

const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }

describe('bursarAccount (viem custom Account backed by the host)', () => {
  let anvil: StartAnvilReturnType
  let token: DeployFiatTokenReturnType
  let host: MockBursarHostReturnType
  let liar: MockBursarHostReturnType
  let walletKey: Hex
  let wallet: Hex
  const merchant = '0x000000000000000000000000000000000000bEEF' as const

  beforeAll(async () => {
    anvil = await startAnvil()
    const [deployer, admin, , key, otherKey] = anvil.accounts as [Hex, Hex, Hex, Hex, Hex]
    walletKey = key
    wallet = privateKeyToAccount(key).address
    token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer, admin })
    await token.mint(wallet, 1_000_000n)
    host = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey })
    liar = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey, signWith: otherKey })
  })
  afterAll(async () => {
    await host?.stop()
    await liar?.stop()
    await anvil?.stop()
  })

  const transferAuth = () => ({
    domain: token.domain,
    types: {
      TransferWithAuthorization: [
        { name: 'from', type: 'address' },
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' },
        { name: 'validBefore', type: 'uint256' },
        { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization' as const,
    message: {
      from: wallet,
      to: merchant,
      value: 10_000n,
      validAfter: 0n,
      validBefore: 2n ** 64n,
      nonce: `0x${'11'.repeat(32)}` as Hex,
    },
  })

  it('has the wallet address and signs EIP-712 through the host (bigints sent as decimal strings)', async () => {
    const account = bursarAccount({ host: host.url, agentKey, wallet, context: { reason: 'buy data' } })
    expect(account.address).toBe(wallet)
    const td = transferAuth()
    const sig = await account.signTypedData(td)
    expect(await recoverTypedDataAddress({ ...td, signature: sig })).toBe(wallet)
    const seen = host.requests.at(-1)?.request
    expect(seen?.op).toBe('signTypedData')
    if (seen?.op !== 'signTypedData') return
    expect(seen.typedData.message).toMatchObject({ value: '10000', validBefore: (2n ** 64n).toString() })
    expect(seen.typedData.domain.chainId).toBe(84532)
    expect(seen.context).toEqual({ reason: 'buy data' })
  })

  it('signs EIP-191 messages (text and raw bytes)', async () => {
    const account = bursarAccount({ host: host.url, agentKey, wallet })
    const s1 = await account.signMessage({ message: 'hi' })
    expect(await recoverMessageAddress({ message: 'hi', signature: s1 })).toBe(wallet)
    const raw = new Uint8Array([1, 2, 3])
    const s2 = await account.signMessage({ message: { raw } })
    expect(await recoverMessageAddress({ message: { raw }, signature: s2 })).toBe(wallet)
    expect(host.requests.at(-1)?.request).toMatchObject({ op: 'signMessage', message: { raw: '0x010203' } })
  })

  it('plugs into a viem wallet client: an ERC-20 transfer is signed by the host and mined by anvil', async () => {
    const account = bursarAccount({ host: host.url, agentKey, wallet })
    const client = createWalletClient({ account, chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const pub = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const before = await token.balanceOf(merchant)
    const hash = await client.writeContract({ address: token.address, abi: erc20Abi, functionName: 'transfer', args: [merchant, 777n] })
    expect((await pub.waitForTransactionReceipt({ hash })).status).toBe('success')
    expect(await token.balanceOf(merchant)).toBe(before + 777n)
    const seen = host.requests.at(-1)?.request
    expect(seen).toMatchObject({
      op: 'signTransaction',
      transaction: {
        to: token.address,
        chainId: 84532,
        data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [merchant, 777n] }),
      },
    })
  })

  it('refuses a signature from the wrong key (lying host) and broadcasts nothing', async () => {
    const account = bursarAccount({ host: liar.url, agentKey, wallet })
    await expect(account.signTypedData(transferAuth())).rejects.toMatchObject({ code: 'response_signer_mismatch' })
    await expect(account.signMessage({ message: 'x' })).rejects.toMatchObject({ code: 'response_signer_mismatch' })
    const pub = createPublicClient({ chain: anvil.chain, transport: http(anvil.rpcUrl) })
    const nonce = await pub.getTransactionCount({ address: wallet })
    const client = createWalletClient({ account, chain: anvil.chain, transport: http(anvil.rpcUrl) })
    await expect(client.sendTransaction({ to: merchant, value: 1n })).rejects.toThrow(/response_signer_mismatch|not 0x/)
    expect(await pub.getTransactionCount({ address: wallet })).toBe(nonce)
  })

  it('refuses legacy transactions before asking the host', async () => {
    const account = bursarAccount({ host: host.url, agentKey, wallet })
    const n = host.requests.length
    await expect(
      account.signTransaction({ type: 'legacy', chainId: 84532, to: merchant, nonce: 0, gas: 21000n, gasPrice: parseGwei('1') }),
    ).rejects.toMatchObject({ code: 'transaction_unsupported' })
    expect(host.requests.length).toBe(n)
  })

  it('takes host and wallet from the key file when not given', () => {
    const account = bursarAccount({ agentKey: { ...agentKey, host: host.url, wallet } })
    expect(account.address).toBe(wallet)
    expect(() => bursarAccount({ agentKey })).toThrow(/no host/)
  })
})
