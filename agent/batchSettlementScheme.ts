import { randomBytes } from 'node:crypto'
import type { PaymentPayloadContext, PaymentPayloadResult, PaymentRequirements } from '@x402/core/types'
import { BatchSettlementEvmScheme, type ClientChannelStorage } from '@x402/evm/batch-settlement/client'
import type { Hex, TypedDataDefinition } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import type { AgentRequestContext } from './requestSignature.js'

/** The channel a batch-settlement signature is for, as the enclave binds it (shared/schemas/agentRequest.ts). */
export type BatchChannelContext = NonNullable<AgentRequestContext['batchChannel']>
/** What one escrow signature is for, sent beside it in the request context. */
export type SignatureBinding = Pick<AgentRequestContext, 'batchChannel' | 'authCapture'>
/** Runs `sign` with `binding` in the request context the enclave sees (for that signature only). */
export type WithBinding = <T>(binding: SignatureBinding, sign: () => Promise<T>) => Promise<T>
/** Asks the enclave what it would decide for this typed data (its dry run: nothing signed or counted); throws the typed refusal. */
export type Preflight = (typedData: TypedDataDefinition, binding: SignatureBinding) => Promise<void>

/**
 * A signer for a reference x402 client that draws a secret (a salt) inside its own signing step: each signing call
 * is answered with a unique placeholder and remembered, so the real signature can be made afterwards with what the
 * enclave needs to bind it (the salt is in the finished payload).
 */
export class DeferredSigner {
  private readonly asked = new Map<Hex, TypedDataDefinition>()
  readonly signer: { address: `0x${string}`; signTypedData: (td: unknown) => Promise<Hex> }

  constructor(private readonly account: LocalAccount) {
    this.signer = {
      address: account.address,
      signTypedData: async (td) => {
        const placeholder = `0x${randomBytes(65).toString('hex')}` as Hex
        this.asked.set(placeholder, td as TypedDataDefinition)
        return placeholder
      },
    }
  }

  /** What the client asked to sign under `placeholder`. */
  askedFor(placeholder: Hex): TypedDataDefinition | undefined {
    return this.asked.get(placeholder)
  }

  /** Signs (through the account) what the client asked for under `placeholder`. */
  async sign(placeholder: Hex): Promise<Hex> {
    const td = this.asked.get(placeholder)
    if (!td) throw new Error('x402 escrow scheme: a signature the reference client asked for is missing')
    this.asked.delete(placeholder)
    return this.account.signTypedData(td)
  }

  forget(placeholders: readonly (Hex | undefined)[]): void {
    for (const p of placeholders) if (p) this.asked.delete(p)
  }
}

export type BursarBatchSettlementOptions = {
  /** Where channel state (charged running total, balance) is kept between payments (default: in memory). */
  storage?: ClientChannelStorage | undefined
  /** Reads the escrow on chain to recover a channel this process does not know (e.g. after an agent restart). */
  readContract?: ((args: { address: `0x${string}`; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] }) => Promise<unknown>) | undefined
}

type Deposit = {
  type: 'deposit'
  channelConfig: BatchChannelContext['config']
  voucher: { signature: Hex }
  deposit: { authorization: { erc3009Authorization?: { salt: string; signature: Hex }; permit2Authorization?: { signature: Hex } } }
}
type Voucher = { type: 'voucher'; channelConfig: BatchChannelContext['config']; voucher: { signature: Hex } }

/**
 * x402 `batch-settlement` paid through bursar: the reference client (@x402/evm) decides deposits, top-ups and
 * running totals; every signature it asks for is made by the enclave with the channel it is for, so the enclave can
 * bind it (the channel id from the config; a deposit's EIP-3009 nonce from the id and its salt). The reference
 * client draws the deposit salt itself, so its signing calls are answered with placeholders and the real
 * signatures are made afterwards — deposit first, then the voucher: a refused deposit leaves no voucher counted, and
 * the voucher is dry-run by the enclave before the deposit, so a voucher it would refuse locks no deposit.
 */
export class BursarBatchSettlementScheme extends BatchSettlementEvmScheme {
  private readonly deferred: DeferredSigner

  constructor(
    account: LocalAccount,
    private readonly bind: WithBinding,
    options: BursarBatchSettlementOptions = {},
    private readonly preflight?: Preflight | undefined,
  ) {
    const deferred = new DeferredSigner(account)
    super({ ...deferred.signer, ...(options.readContract ? { readContract: options.readContract } : {}) } as never, { storage: options.storage })
    this.deferred = deferred
  }

  override async createPaymentPayload(x402Version: number, requirements: PaymentRequirements, context?: PaymentPayloadContext): Promise<PaymentPayloadResult> {
    const result = await super.createPaymentPayload(x402Version, requirements, context)
    const payload = result.payload as unknown as Deposit | Voucher
    const config = payload.channelConfig
    try {
      if (payload.type === 'deposit') {
        const { erc3009Authorization: auth, permit2Authorization: permit } = payload.deposit.authorization
        // The voucher is signed after the deposit: ask first whether it would be, so a refused voucher locks nothing.
        const voucher = this.deferred.askedFor(payload.voucher.signature)
        if (voucher && this.preflight) await this.preflight(voucher, { batchChannel: { config } })
        // EIP-3009: the nonce binds the channel through the salt; Permit2: the witness names the channel itself.
        if (auth) auth.signature = await this.bind({ batchChannel: { config, depositSalt: auth.salt } }, () => this.deferred.sign(auth.signature))
        if (permit) permit.signature = await this.bind({ batchChannel: { config } }, () => this.deferred.sign(permit.signature))
      }
      payload.voucher.signature = await this.bind({ batchChannel: { config } }, () => this.deferred.sign(payload.voucher.signature))
    } finally {
      const a = (payload as Deposit).deposit?.authorization
      this.deferred.forget([payload.voucher.signature, a?.erc3009Authorization?.signature, a?.permit2Authorization?.signature])
    }
    return result
  }
}
