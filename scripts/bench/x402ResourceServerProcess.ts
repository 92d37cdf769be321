/**
 * Child-process entry for the SDK bench: a loopback x402 resource server
 * (the reference `@x402/express` middleware + `x402ResourceServer` with the
 * `exact` EVM scheme) whose facilitator checks every payment's EIP-3009
 * signature with viem and skips on-chain settlement. Sends `{ port }` to the
 * parent over IPC; exits when the parent disconnects. Its CPU is the
 * merchant's, not the agent's.
 */
import type { AddressInfo } from 'node:net'
import type { FacilitatorClient } from '@x402/core/server'
import type { Network, PaymentPayload, PaymentRequirements } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { paymentMiddleware, x402ResourceServer } from '@x402/express'
import express from 'express'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_USDC } from './buildPaymentRequest.js'

const network = `eip155:${BENCH_CHAIN_ID}` as Network
type Authorization = { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex }

// Verifies what a facilitator would check off-chain (signer = from, pay-to, amount); settlement is skipped.
const facilitator: FacilitatorClient = {
  async verify(p: PaymentPayload, r: PaymentRequirements) {
    const { authorization: a, signature } = p.payload as { authorization: Authorization; signature: Hex }
    const signer = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC },
      types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
      primaryType: 'TransferWithAuthorization',
      message: { ...a, value: BigInt(a.value), validAfter: BigInt(a.validAfter), validBefore: BigInt(a.validBefore) },
      signature,
    })
    const ok = signer.toLowerCase() === a.from.toLowerCase() && a.to.toLowerCase() === r.payTo.toLowerCase() && a.value === r.amount
    return ok ? { isValid: true, payer: a.from } : { isValid: false, invalidReason: 'invalid_exact_evm_payload_signature', payer: a.from }
  },
  async settle(p: PaymentPayload) {
    const payer = (p.payload as { authorization: Authorization }).authorization.from
    return { success: true, transaction: `0x${'00'.repeat(32)}`, network, payer }
  },
  async getSupported() {
    return { kinds: [{ x402Version: 2, scheme: 'exact', network }], extensions: [], signers: {} }
  },
}

const server = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme())
await server.initialize()
const app = express()
app.use(
  paymentMiddleware(
    {
      'GET /paid': {
        accepts: {
          scheme: 'exact',
          network,
          payTo: BENCH_PAY_TO,
          price: { asset: BENCH_USDC, amount: BENCH_PRICE, extra: { name: 'USDC', version: '2' } },
          maxTimeoutSeconds: 300,
        },
        description: 'bursar bench paid resource',
        mimeType: 'application/json',
      },
    },
    server,
    undefined,
    undefined,
    false,
  ),
)
app.get('/paid', (_req, res) => {
  res.json({ ok: true, paid: true })
})
app.get('/free', (_req, res) => {
  res.json({ ok: true, paid: false })
})
// The transport floor: a POST of an agent-request-sized body answered with a sign-answer-sized JSON, no work.
const ECHO_ANSWER = JSON.stringify({ signature: `0x${'ab'.repeat(65)}`, signedHash: `0x${'cd'.repeat(32)}`, receipt: { pad: 'x'.repeat(400) } })
app.post('/floor', express.raw({ type: '*/*' }), (_req, res) => {
  res.type('application/json').send(ECHO_ANSWER)
})
const listener = app.listen(0, '127.0.0.1', () => {
  process.send!({ type: 'ready', port: (listener.address() as AddressInfo).port })
})
process.on('disconnect', () => process.exit(0))
