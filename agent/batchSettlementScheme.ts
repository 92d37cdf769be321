import { randomBytes } from 'node:crypto'
import type { PaymentPayloadContext, PaymentPayloadResult, PaymentRequirements } from '@x402/core/types'
import { BatchSettlementEvmScheme, type ClientChannelStorage } from '@x402/evm/batch-settlement/client'
import type { Hex, TypedDataDefinition } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { AgentRequestContext } from './requestSignature.js'

/** The channel a batch-settlement signature is for, as the enclave binds it (shared/schemas/agentRequest.ts). */
export type BatchChannelContext = NonNullable<AgentRequestContext['batchChannel']>

export type BursarBatchSettlementOptions = {
  /** Where channel state (charged running total, balance) is kept between payments (default: in memory). */
  storage?: ClientChannelStorage | undefined
  /** Reads the escrow on chain to recover a channel this process does not know (e.g. after an agent restart). */
  readContract?: ((args: { address: `0x${string}`; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] }) => Promise<unknown>) | undefined
}

type Deposit = { type: 'deposit'; channelConfig: BatchChannelContext['config']; voucher: { signature: Hex }; deposit: { authorization: { erc3009Authorization?: { salt: string; signature: Hex } } } }
type Voucher = { type: 'voucher'; channelConfig: BatchChannelContext['config']; voucher: { signature: Hex } }

/**
 * x402 `batch-settlement` paid through bursar: the reference client (@x402/evm) decides deposits, top-ups and
 * running totals; every signature it asks for is made by the enclave with the channel it is for, so the enclave can
 * bind it (the channel id from the config; a deposit's EIP-3009 nonce from the id and its salt). The reference
 * client draws the deposit salt itself, so its signing calls are answered with placeholders and the real
 * signatures are made afterwards — deposit first, then the voucher: a refused deposit leaves no voucher counted.
 */
export class BursarBatchSettlementScheme extends BatchSettlementEvmScheme {
  private readonly asked: Map<Hex, TypedDataDefinition>

  constructor(
    private readonly account: LocalAccount,
    /** Runs `sign` with `channel` in the request context the enclave sees. */
    private readonly withChannel: <T>(channel: BatchChannelContext, sign: () => Promise<T>) => Promise<T>,
    options: BursarBatchSettlementOptions = {},
  ) {
    const asked = new Map<Hex, TypedDataDefinition>()
    const signer = {
      address: account.address,
      signTypedData: async (td: unknown) => {
        const placeholder = `0x${randomBytes(65).toString('hex')}` as Hex
        asked.set(placeholder, td as TypedDataDefinition)
        return placeholder
      },
      ...(options.readContract ? { readContract: options.readContract } : {}),
    }
    super(signer as never, { storage: options.storage })
    this.asked = asked
  }

  override async createPaymentPayload(x402Version: number, requirements: PaymentRequirements, context?: PaymentPayloadContext): Promise<PaymentPayloadResult> {
    const result = await super.createPaymentPayload(x402Version, requirements, context)
    const payload = result.payload as unknown as Deposit | Voucher
    const config = payload.channelConfig
    try {
      if (payload.type === 'deposit') {
        const auth = payload.deposit.authorization.erc3009Authorization
        if (!auth) throw new Error('batch-settlement: only EIP-3009 deposits are signed through bursar (assetTransferMethod permit2 is not supported)')
        auth.signature = await this.withChannel({ config, depositSalt: auth.salt }, () => this.signAsked(auth.signature))
      }
      payload.voucher.signature = await this.withChannel({ config }, () => this.signAsked(payload.voucher.signature))
    } finally {
      for (const s of [payload.voucher.signature, (payload as Deposit).deposit?.authorization.erc3009Authorization?.signature]) if (s) this.asked.delete(s)
    }
    return result
  }

  private async signAsked(placeholder: Hex): Promise<Hex> {
    const td = this.asked.get(placeholder)
    if (!td) throw new Error('batch-settlement: a signature the reference client asked for is missing')
    this.asked.delete(placeholder)
    return this.account.signTypedData(td)
  }
}
