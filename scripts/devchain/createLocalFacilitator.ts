import { x402Facilitator } from '@x402/core/facilitator'
import type { FacilitatorClient } from '@x402/core/server'
import type { Network, PaymentPayload, PaymentRequirements, SettleResponse } from '@x402/core/types'
import { toFacilitatorEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/facilitator'
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/facilitator'
import { UptoEvmScheme } from '@x402/evm/upto/facilitator'
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/facilitator'
import { type Chain, type Hex, createPublicClient, createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

/**
 * Dev-chain fixture: the x402 reference facilitator (`@x402/evm`: `exact`
 * by EIP-3009 or Permit2, `upto` and `batch-settlement`) running in-process against a local
 * chain, so no remote facilitator is ever contacted. Every successful
 * settlement is recorded. Permit2 payments need Permit2 and the x402 proxies
 * on the chain (installX402Permit2).
 */
export type CreateLocalFacilitatorParameters = {
  rpcUrl: string
  chain: Chain
  /** Pays the gas for transferWithAuthorization. */
  facilitatorKey: Hex
  /** v1 network names served as well (e.g. 'base-sepolia' for chain 84532). */
  v1Networks?: string[] | undefined
}

export type LocalSettlement = {
  x402Version: number
  network: string
  transaction: Hex
  payer: string | undefined
  /** What moved: the facilitator's settled amount (upto: the server's chosen amount), else the required amount. */
  amount: string
  payTo: string
  asset: string
  scheme: string
  /** exact: 'eip3009' or 'permit2'; upto: 'permit2'. */
  assetTransferMethod: string
}

export type CreateLocalFacilitatorReturnType = {
  facilitator: x402Facilitator
  /** The resource-server side view of the facilitator (what HTTPFacilitatorClient would be). */
  client: FacilitatorClient
  settlements: LocalSettlement[]
  address: Hex
}

/** Builds an in-process x402 facilitator (v2 `eip155:<id>`, plus v1 names) that verifies and settles on `rpcUrl`. */
export function createLocalFacilitator(params: CreateLocalFacilitatorParameters): CreateLocalFacilitatorReturnType {
  const account = privateKeyToAccount(params.facilitatorKey)
  const transport = http(params.rpcUrl)
  const pub = createPublicClient({ chain: params.chain, transport })
  const wallet = createWalletClient({ chain: params.chain, transport, account })
  // Explicit adapter rather than spreading a viem client: the facilitator only
  // needs these calls, all bound to the loopback chain. Reads are eth_calls
  // from the facilitator's address, as from a viem wallet client: the upto
  // proxy lets only the witness's facilitator settle, simulation included.
  const signer = toFacilitatorEvmSigner({
    address: account.address,
    readContract: (a) => pub.readContract({ ...(a as Parameters<typeof pub.readContract>[0]), account: account.address }),
    verifyTypedData: (a) => pub.verifyTypedData(a as Parameters<typeof pub.verifyTypedData>[0]),
    writeContract: (a) => wallet.writeContract(a as Parameters<typeof wallet.writeContract>[0]),
    sendTransaction: (a) => wallet.sendTransaction(a as Parameters<typeof wallet.sendTransaction>[0]),
    waitForTransactionReceipt: (a) => pub.waitForTransactionReceipt(a),
    getCode: (a) => pub.getCode(a),
  })

  const network = `eip155:${params.chain.id}` as Network
  // batch-settlement: the facilitator's key also signs claim batches as the channels' receiverAuthorizer.
  const facilitator = new x402Facilitator()
    .register(network, new ExactEvmScheme(signer))
    .register(network, new UptoEvmScheme(signer))
    .register(network, new BatchSettlementEvmScheme(signer, account))
  const v1 = params.v1Networks ?? []
  if (v1.length > 0) facilitator.registerV1(v1 as Network[], new ExactEvmSchemeV1(signer))

  const settlements: LocalSettlement[] = []
  facilitator.onAfterSettle(async ({ paymentPayload, requirements, result }) => {
    if (!result.success) return
    const req = requirements as PaymentRequirements & { maxAmountRequired?: string }
    const settled = (result as SettleResponse & { amount?: string }).amount
    settlements.push({
      x402Version: paymentPayload.x402Version,
      network: result.network,
      transaction: result.transaction as Hex,
      payer: result.payer,
      amount: settled ?? req.amount ?? req.maxAmountRequired ?? '',
      payTo: req.payTo,
      asset: req.asset,
      scheme: req.scheme,
      assetTransferMethod: String(req.extra?.assetTransferMethod ?? 'eip3009'),
    })
  })

  const client: FacilitatorClient = {
    verify: (p: PaymentPayload, r: PaymentRequirements) => facilitator.verify(p, r),
    settle: (p: PaymentPayload, r: PaymentRequirements): Promise<SettleResponse> => facilitator.settle(p, r),
    getSupported: async () => facilitator.getSupported() as Awaited<ReturnType<FacilitatorClient['getSupported']>>,
  }
  return { facilitator, client, settlements, address: account.address }
}
