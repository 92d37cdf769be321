import { type Hex, encodeFunctionData, erc20Abi, parseTransaction, recoverTransactionAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import type { AgentRequest, TransactionJson } from '../../shared/schemas/agentRequest.js'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import { decodeSignRequest } from './decodeSignRequest.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from '../../enclave/sign/signPlan.js'

const account = privateKeyToAccount(MOCK_PRIVATE_KEY)
const SPENDER = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
const base: TransactionJson = { chainId: 84532, to: MOCK_PAY_TO, nonce: 7, gas: '21000', maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1000000', value: '0' }
const tx = (patch: Partial<TransactionJson>): TransactionJson => ({ ...base, ...patch })
const decode = (transaction: TransactionJson, context?: AgentRequest['context']) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signTransaction', transaction }, context), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })
const transferData = encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [MOCK_PAY_TO, 1234n] })

async function signsLikeViem(t: TransactionJson) {
  const r = decode(t)
  if (!r.ok) throw new Error(r.code)
  const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
  const viemTx = {
    type: 'eip1559' as const,
    chainId: t.chainId,
    nonce: t.nonce,
    to: t.to as Hex,
    gas: BigInt(t.gas),
    maxFeePerGas: BigInt(t.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas),
    value: BigInt(t.value ?? '0'),
    data: (t.data ?? '0x') as Hex,
  }
  expect(out.serializedTransaction).toBe(await account.signTransaction(viemTx))
  expect(await recoverTransactionAddress({ serializedTransaction: out.serializedTransaction as never })).toBe(MOCK_WALLET)
  const parsed = parseTransaction(out.serializedTransaction!)
  expect(parsed).toMatchObject({ chainId: t.chainId, nonce: t.nonce, to: t.to.toLowerCase(), gas: viemTx.gas })
  expect(parsed.value ?? 0n).toBe(viemTx.value) // parseTransaction omits a zero value
  expect(parsed.data ?? '0x').toBe(viemTx.data.toLowerCase())
  expect(`0x${parsed.r!.slice(2).padStart(64, '0')}${parsed.s!.slice(2).padStart(64, '0')}${parsed.yParity ? '1c' : '1b'}`).toBe(out.signature)
  return DecodedActionSchema.parse(r.action)
}

describe('decodeSignRequest: EIP-1559 transactions', () => {
  it('decodes a native transfer and signs it byte for byte as viem', async () => {
    expect(await signsLikeViem(tx({ value: '1000000000000000000' }))).toMatchObject({ kind: 'native_transfer', chainId: 84532, amount: '1000000000000000000', payTo: MOCK_PAY_TO })
  })

  it('decodes ERC-20 transfer, transferFrom and approve', async () => {
    expect(await signsLikeViem(tx({ to: MOCK_USDC, data: transferData }))).toMatchObject({
      kind: 'erc20_transfer', chainId: 84532, asset: MOCK_USDC, amount: '1234', payTo: MOCK_PAY_TO, from: MOCK_WALLET, method: 'transfer',
    })
    const tf = encodeFunctionData({ abi: erc20Abi, functionName: 'transferFrom', args: [SPENDER, MOCK_PAY_TO, 99n] })
    expect(await signsLikeViem(tx({ to: MOCK_USDC.toLowerCase(), data: tf }))).toMatchObject({
      kind: 'erc20_transfer', chainId: 84532, asset: MOCK_USDC, amount: '99', payTo: MOCK_PAY_TO, from: SPENDER, method: 'transferFrom',
    })
    const max = (1n << 256n) - 1n
    const ap = encodeFunctionData({ abi: erc20Abi, functionName: 'approve', args: [SPENDER, max] })
    expect(await signsLikeViem(tx({ to: MOCK_USDC, data: ap }))).toMatchObject({ kind: 'erc20_approve', chainId: 84532, asset: MOCK_USDC, amount: max.toString(), spender: SPENDER, method: 'approve' })
  })

  it('reports other calldata as a contract call by selector', async () => {
    const data = encodeFunctionData({ abi: erc20Abi, functionName: 'balanceOf', args: [MOCK_WALLET] })
    const other = '0x7777777777777777777777777777777777777777'
    expect(await signsLikeViem(tx({ to: other, data, value: '5' }))).toMatchObject({ kind: 'contract_call', chainId: 84532, to: other, value: '5', selector: '0x70a08231', data })
    // SECURITY: any other call to a registry token is refused, never an anonymous contract call.
    expect(decodeSignRequest({ request: mockSignRequest({ op: 'signTransaction', transaction: tx({ to: MOCK_USDC, data }) }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })).toMatchObject({ ok: false, code: 'sign_token_call_unsupported' })
    // A 32-byte "digest" as calldata is just an unknown call, never a bare-hash signature.
    expect(await signsLikeViem(tx({ data: `0x${'ee'.repeat(32)}` }))).toMatchObject({ kind: 'contract_call', selector: '0xeeeeeeee' })
  })

  it.each([
    ['transfer with trailing bytes', tx({ to: MOCK_USDC, data: `${transferData}00` }), 'sign_calldata_malformed'],
    ['transfer with a trailing word', tx({ to: MOCK_USDC, data: `${transferData}${'00'.repeat(32)}` }), 'sign_calldata_malformed'],
    ['transfer cut short', tx({ to: MOCK_USDC, data: transferData.slice(0, -2) }), 'sign_calldata_malformed'],
    ['transfer with dirty address padding', tx({ to: MOCK_USDC, data: `0xa9059cbb${'ff'.repeat(12)}${transferData.slice(34)}` }), 'sign_calldata_malformed'],
    ['bare selector', tx({ to: MOCK_USDC, data: '0xa9059cbb' }), 'sign_calldata_malformed'],
    ['ERC-20 call with native value', tx({ to: MOCK_USDC, data: transferData, value: '1' }), 'sign_erc20_native_value'],
    ['calldata shorter than a selector', tx({ data: '0xa905' }), 'sign_calldata_unknown'],
    ['odd-length calldata', tx({ data: '0xa9059cbb0' }), 'sign_tx_malformed'],
    ['priority fee above max fee', tx({ maxPriorityFeePerGas: '3000000000' }), 'sign_tx_malformed'],
    ['value above uint256', tx({ value: (1n << 256n).toString() }), 'sign_tx_malformed'],
    ['gas above 2^64−1', tx({ gas: (1n << 64n).toString() }), 'sign_tx_fee_out_of_range'],
    ['max fee above uint256', tx({ maxFeePerGas: (1n << 256n).toString() }), 'sign_tx_fee_out_of_range'],
    ['gas × max fee above uint256', tx({ gas: (1n << 63n).toString(), maxFeePerGas: (1n << 255n).toString(), maxPriorityFeePerGas: '1' }), 'sign_tx_fee_out_of_range'],
  ] as const)('refuses %s', (_n, t, code) => {
    expect(decode(t)).toMatchObject({ ok: false, code })
  })

  it('compares x402 requirements with the decoded transfer and chain', () => {
    const t = tx({ to: MOCK_USDC, data: transferData })
    const req = { scheme: 'exact', network: 'eip155:84532', asset: MOCK_USDC, amount: '1234', payTo: MOCK_PAY_TO }
    expect(decode(t, { requirements: req })).toMatchObject({ ok: true })
    expect(decode(t, { requirements: { ...req, amount: '1' } })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(t, { requirements: { ...req, network: 'eip155:1' } })).toMatchObject({ ok: false, code: 'sign_chain_mismatch' })
    expect(decode(tx({ chainId: 1 }), { requirements: req })).toMatchObject({ ok: false, code: 'sign_chain_mismatch' })
  })
})
