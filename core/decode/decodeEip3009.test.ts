import { ExactEvmScheme } from '@x402/evm/exact/client'
import { type Hex, hashTypedData, verifyTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { DecodedActionSchema } from '../../shared/schemas/decodedAction.js'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { AgentRequestSchema } from '../../shared/schemas/agentRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from '../../enclave/sign/signPlan.js'

const account = privateKeyToAccount(MOCK_PRIVATE_KEY)
const NONCE = `0x${'5a'.repeat(32)}` as Hex
const FIELDS = [
  { name: 'from', type: 'address' },
  { name: 'to', type: 'address' },
  { name: 'value', type: 'uint256' },
  { name: 'validAfter', type: 'uint256' },
  { name: 'validBefore', type: 'uint256' },
  { name: 'nonce', type: 'bytes32' },
]

function authorization(): TypedDataJson {
  return {
    domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
    types: { TransferWithAuthorization: FIELDS.map((f) => ({ ...f })) },
    primaryType: 'TransferWithAuthorization',
    message: { from: MOCK_WALLET, to: MOCK_PAY_TO, value: '10000', validAfter: '0', validBefore: '1900000000', nonce: NONCE },
  }
}

function toViem(td: TypedDataJson) {
  const m = td.message
  return {
    domain: { ...td.domain, chainId: Number(td.domain.chainId) },
    types: td.types,
    primaryType: td.primaryType,
    message: { ...m, value: BigInt(m.value as string), validAfter: BigInt(m.validAfter as string), validBefore: BigInt(m.validBefore as string) },
  } as Parameters<typeof hashTypedData>[0]
}

const decode = (typedData: TypedDataJson, context?: AgentRequest['context']) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData }, context), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

describe('decodeSignRequest: EIP-3009', () => {
  it('decodes a TransferWithAuthorization and signs exactly what viem signs', async () => {
    const td = authorization()
    const r = decode(td)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(DecodedActionSchema.parse(r.action)).toEqual({
      kind: 'eip3009',
      primaryType: 'TransferWithAuthorization',
      chainId: 84532,
      asset: MOCK_USDC,
      amount: '10000',
      payTo: MOCK_PAY_TO,
      from: MOCK_WALLET,
      validAfter: 0,
      validBefore: 1900000000,
      nonce: NONCE,
    })
    expect(r.plan.digest).toBe(hashTypedData(toViem(td)))
    const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
    expect(out.signature).toBe(await account.signTypedData(toViem(td) as never))
    expect(await verifyTypedData({ ...(toViem(td) as object), address: MOCK_WALLET, signature: out.signature } as never)).toBe(true)
  })

  it('accepts ReceiveWithAuthorization, an explicit EIP712Domain, a string chainId and lowercase addresses', async () => {
    const td = authorization()
    td.primaryType = 'ReceiveWithAuthorization'
    td.types = {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
      ReceiveWithAuthorization: FIELDS,
    }
    td.domain = { ...td.domain, chainId: '84532', verifyingContract: MOCK_USDC.toLowerCase() }
    td.message = { ...td.message, from: MOCK_WALLET.toLowerCase(), to: MOCK_PAY_TO.toLowerCase(), value: 7 }
    const r = decode(td)
    expect(r.ok && r.action).toMatchObject({ kind: 'eip3009', primaryType: 'ReceiveWithAuthorization', asset: MOCK_USDC, payTo: MOCK_PAY_TO, from: MOCK_WALLET, amount: '7' })
    if (!r.ok) return
    const viemTd = { ...toViem({ ...td, message: { ...td.message, value: '7' } }) }
    expect(r.plan.digest).toBe(hashTypedData(viemTd))
    expect(signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan }).signature).toBe(await account.signTypedData(viemTd as never))
  })

  it('decodes the typed data the x402 reference client (ExactEvmScheme) asks to sign', async () => {
    let captured: Parameters<typeof account.signTypedData>[0] | undefined
    const signer = {
      address: MOCK_WALLET,
      signTypedData: async (td: Parameters<typeof account.signTypedData>[0]) => {
        captured = td
        return account.signTypedData(td)
      },
    }
    const requirements = {
      scheme: 'exact',
      network: 'eip155:84532' as const,
      asset: MOCK_USDC,
      amount: '2500',
      payTo: MOCK_PAY_TO,
      maxTimeoutSeconds: 60,
      extra: { name: 'USDC', version: '2' },
    }
    const payload = await new ExactEvmScheme(signer as never).createPaymentPayload(2, requirements as never)
    expect(captured).toBeDefined()
    // What the bursar SDK would send: the same typed data as JSON (bigints as decimal strings).
    const json = JSON.parse(JSON.stringify(captured, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
    const request = AgentRequestSchema.parse(mockSignRequest({ op: 'signTypedData', typedData: json }, { requirements }))
    const r = decodeSignRequest({ request, wallet: MOCK_WALLET, registry: MOCK_REGISTRY })
    expect(r.ok && r.action).toMatchObject({ kind: 'eip3009', amount: '2500', payTo: MOCK_PAY_TO, asset: MOCK_USDC, chainId: 84532 })
    if (!r.ok) return
    const out = signPlan({ privateKey: MOCK_PRIVATE_KEY, plan: r.plan })
    expect(out.signature).toBe((payload.payload as { signature: Hex }).signature)

    const bad = (patch: object) => decode(json, { requirements: { ...requirements, ...patch } })
    expect(bad({ amount: '2501' })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ payTo: MOCK_WALLET })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ asset: MOCK_REGISTRY[1]!.asset })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ scheme: 'upto' })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ extra: { name: 'USD Coin', version: '2' } })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ extra: { name: 'USDC', version: '1' } })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(bad({ network: 'eip155:8453' })).toMatchObject({ ok: false, code: 'sign_chain_mismatch' })
    expect(bad({ network: 'solana:mainnet' })).toMatchObject({ ok: false, code: 'sign_chain_mismatch' })
    expect(bad({ payTo: MOCK_PAY_TO.toLowerCase(), extra: {} })).toMatchObject({ ok: true })
  })

  const cases: [string, (td: TypedDataJson) => void, string][] = [
    ['wrong domain name', (td) => void (td.domain.name = 'USD Coin'), 'sign_domain_mismatch'],
    ['wrong domain version', (td) => void (td.domain.version = '1'), 'sign_domain_mismatch'],
    ['wrong chain', (td) => void (td.domain.chainId = 8453), 'sign_domain_not_in_registry'],
    ['wrong contract', (td) => void (td.domain.verifyingContract = MOCK_PAY_TO), 'sign_domain_not_in_registry'],
    ['asset not in registry (mainnet USDC on another chain)', (td) => void (td.domain.verifyingContract = MOCK_REGISTRY[1]!.asset), 'sign_domain_not_in_registry'],
    ['salt in domain', (td) => void (td.domain.salt = NONCE), 'sign_eip3009_shape_invalid'],
    ['chainId absent', (td) => void delete td.domain.chainId, 'sign_eip3009_shape_invalid'],
    ['chainId zero', (td) => void (td.domain.chainId = 0), 'sign_eip3009_shape_invalid'],
    ['extra field', (td) => void td.types.TransferWithAuthorization!.push({ name: 'memo', type: 'string' }), 'sign_eip3009_shape_invalid'],
    ['missing field', (td) => void td.types.TransferWithAuthorization!.pop(), 'sign_eip3009_shape_invalid'],
    ['wrong field type', (td) => void (td.types.TransferWithAuthorization![2]!.type = 'uint128'), 'sign_eip3009_shape_invalid'],
    ['fields reordered', (td) => void td.types.TransferWithAuthorization!.reverse(), 'sign_eip3009_shape_invalid'],
    ['extra type', (td) => void (td.types.Memo = [{ name: 'text', type: 'string' }]), 'sign_eip3009_shape_invalid'],
    ['EIP712Domain with salt', (td) => void (td.types.EIP712Domain = [{ name: 'name', type: 'string' }, { name: 'salt', type: 'bytes32' }]), 'sign_eip3009_shape_invalid'],
    ['EIP712Domain out of order', (td) => void (td.types.EIP712Domain = [{ name: 'version', type: 'string' }, { name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }]), 'sign_eip3009_shape_invalid'],
    ['extra message key', (td) => void (td.message.memo = 'x'), 'sign_eip3009_shape_invalid'],
    ['missing message key', (td) => void delete td.message.nonce, 'sign_eip3009_shape_invalid'],
    ['negative value', (td) => void (td.message.value = '-1'), 'sign_eip3009_shape_invalid'],
    ['value with leading zero', (td) => void (td.message.value = '010'), 'sign_eip3009_shape_invalid'],
    ['value as hex', (td) => void (td.message.value = '0x10'), 'sign_eip3009_shape_invalid'],
    ['value above uint256', (td) => void (td.message.value = (1n << 256n).toString()), 'sign_eip3009_shape_invalid'],
    ['value as float', (td) => void (td.message.value = 1.5), 'sign_eip3009_shape_invalid'],
    ['validBefore beyond safe seconds', (td) => void (td.message.validBefore = (2n ** 60n).toString()), 'sign_eip3009_shape_invalid'],
    ['nonce too short', (td) => void (td.message.nonce = '0x1234'), 'sign_eip3009_shape_invalid'],
    ['to not an address', (td) => void (td.message.to = 'alice.eth'), 'sign_eip3009_shape_invalid'],
    ['from is not the wallet', (td) => void (td.message.from = MOCK_PAY_TO), 'sign_from_not_wallet'],
  ]
  it.each(cases)('refuses %s', (_name, mutate, code) => {
    const td = authorization()
    mutate(td)
    expect(decode(td)).toMatchObject({ ok: false, code })
  })

  it('refuses when the request names another wallet, or the registry is ambiguous', () => {
    const request = mockSignRequest({ op: 'signTypedData', typedData: authorization() })
    expect(decodeSignRequest({ request, wallet: MOCK_PAY_TO, registry: MOCK_REGISTRY })).toMatchObject({ ok: false, code: 'sign_wallet_mismatch' })
    const registry = [...MOCK_REGISTRY, { ...MOCK_REGISTRY[0]!, asset: MOCK_USDC.toLowerCase(), name: 'Fake' }]
    expect(decodeSignRequest({ request, wallet: MOCK_WALLET, registry })).toMatchObject({ ok: false, code: 'sign_registry_ambiguous' })
    expect(decodeSignRequest({ request, wallet: MOCK_WALLET, registry: [] })).toMatchObject({ ok: false, code: 'sign_domain_not_in_registry' })
  })
})
