import { computeChannelId } from '@x402/evm/batch-settlement/client'
import { encodeAbiParameters, hashTypedData, keccak256 } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { MOCK_PAY_TO, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { decodeSignRequest } from './decodeSignRequest.js'

const ESCROW = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003'
const COLLECTOR = '0x4020806089470a89826cB9fB1f4059150b550004'
const AUTHORIZER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const ZERO32 = `0x${'00'.repeat(32)}` as const
const config = (over: Partial<Config> = {}): Config => ({
  payer: MOCK_WALLET,
  payerAuthorizer: MOCK_WALLET,
  receiver: MOCK_PAY_TO,
  receiverAuthorizer: AUTHORIZER,
  token: MOCK_USDC,
  withdrawDelay: 900,
  salt: ZERO32,
  ...over,
})
type Config = NonNullable<NonNullable<AgentRequest['context']>['batchChannel']>['config']
// The channel id as the reference client computes it (independent of bursar's decoder).
const idOf = (c: Config) => computeChannelId(c as Parameters<typeof computeChannelId>[0], 'eip155:84532')
const requirements = { scheme: 'batch-settlement', network: 'eip155:84532', asset: MOCK_USDC, amount: '100', payTo: MOCK_PAY_TO }

/** A voucher as the reference client signs it. */
const voucher = (channelId: string, total: string, over: Partial<TypedDataJson> = {}): TypedDataJson => ({
  domain: { name: 'x402 Batch Settlement', version: '1', chainId: 84532, verifyingContract: ESCROW },
  types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
  primaryType: 'Voucher',
  message: { channelId, maxClaimableAmount: total },
  ...over,
})
/** The EIP-3009 deposit authorization as the reference client signs it: nonce = keccak256(channelId, salt). */
const deposit = (channelId: `0x${string}`, salt: bigint, over: Record<string, unknown> = {}, primaryType = 'ReceiveWithAuthorization'): TypedDataJson => ({
  domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
  types: { [primaryType]: ['from', 'to', 'value', 'validAfter', 'validBefore', 'nonce'].map((name, i) => ({ name, type: i < 2 ? 'address' : i === 5 ? 'bytes32' : 'uint256' })) },
  primaryType,
  message: { from: MOCK_WALLET, to: COLLECTOR, value: '5000', validAfter: '0', validBefore: '1900000000', nonce: keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [channelId, salt])), ...over },
})
const decode = (typedData: TypedDataJson, batchChannel?: { config: Config; depositSalt?: string }, req: Record<string, unknown> | null = requirements) =>
  decodeSignRequest({ request: mockSignRequest({ op: 'signTypedData', typedData }, { ...(req ? { requirements: req as never } : {}), ...(batchChannel ? { batchChannel } : {}) }), wallet: MOCK_WALLET, registry: MOCK_REGISTRY })

describe('decode: x402 batch-settlement', () => {
  it('a voucher for the named channel: its id recomputed (as @x402/evm computes it), the total decoded, the digest EIP-712', () => {
    const c = config()
    const td = voucher(idOf(c), '1234')
    const r = decode(td, { config: c })
    expect(r).toMatchObject({ ok: true, action: { kind: 'batch_voucher', channelId: idOf(c).toLowerCase(), total: '1234', signedBefore: '0', receiver: MOCK_PAY_TO, asset: MOCK_USDC, escrow: ESCROW } })
    expect(r.ok && r.plan.digest).toBe(hashTypedData({ ...td, message: { channelId: idOf(c), maxClaimableAmount: 1234n } } as never))
    // payerAuthorizer zero: the payer (the wallet) itself signs vouchers.
    const z = config({ payerAuthorizer: '0x0000000000000000000000000000000000000000' })
    expect(decode(voucher(idOf(z), '1'), { config: z })).toMatchObject({ ok: true })
  })

  it('voucherForAnotherChannel: a channelId that is not the named config’s is refused', () => {
    const other = config({ receiver: '0x3333333333333333333333333333333333333333' })
    expect(decode(voucher(idOf(other), '5'), { config: config() })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(voucher(idOf(config()), '5'))).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
  })

  it('channelWithForeignVoucherSigner: a channel whose vouchers another key signs, or another payer’s, is refused', () => {
    const foreign = config({ payerAuthorizer: AUTHORIZER })
    expect(decode(voucher(idOf(foreign), '5'), { config: foreign })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    const notMine = config({ payer: AUTHORIZER })
    expect(decode(voucher(idOf(notMine), '5'), { config: notMine })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
  })

  it('a voucher must match the requirements (receiver, token, scheme) and be exactly the Voucher type', () => {
    const c = config()
    expect(decode(voucher(idOf(c), '5'), { config: c }, { ...requirements, payTo: AUTHORIZER })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(voucher(idOf(c), '5'), { config: c }, { ...requirements, scheme: 'exact' })).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    const extra = voucher(idOf(c), '5', { types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint256' }] } })
    expect(decode(extra, { config: c })).toMatchObject({ ok: false, code: 'sign_batch_voucher_invalid' })
    // voucherForLookAlikeEscrow: the same domain name on another contract.
    const lookAlike = voucher(idOf(c), '5', { domain: { name: 'x402 Batch Settlement', version: '1', chainId: 84532, verifyingContract: AUTHORIZER } })
    expect(decode(lookAlike, { config: c })).toMatchObject({ ok: false, code: 'sign_batch_voucher_invalid' })
    const refund = voucher(idOf(c), '5', { primaryType: 'Refund' })
    expect(decode(refund, { config: c })).toMatchObject({ ok: false, code: 'sign_batch_voucher_invalid' })
    const tooBig = voucher(idOf(c), (2n ** 128n).toString())
    expect(decode(tooBig, { config: c })).toMatchObject({ ok: false })
  })

  it('a deposit: a ReceiveWithAuthorization to the collector whose nonce binds the named channel', () => {
    const c = config()
    const r = decode(deposit(idOf(c), 77n), { config: c, depositSalt: '77' })
    expect(r).toMatchObject({ ok: true, action: { kind: 'batch_deposit', amount: '5000', channelId: idOf(c).toLowerCase(), receiver: MOCK_PAY_TO, escrow: ESCROW } })
    expect(decode(deposit(idOf(c), 77n), { config: c, depositSalt: '0x4d' })).toMatchObject({ ok: true })
  })

  it('depositForAnotherChannel: a nonce bound to another channel or salt, or no channel named, is refused', () => {
    const c = config()
    const other = config({ salt: `0x${'11'.repeat(32)}` })
    expect(decode(deposit(idOf(other), 77n), { config: c, depositSalt: '77' })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(deposit(idOf(c), 77n), { config: c, depositSalt: '78' })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(deposit(idOf(c), 77n), { config: c })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(deposit(idOf(c), 77n))).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    // A transfer (not a receive) to the collector would leave the funds in no channel.
    expect(decode(deposit(idOf(c), 77n, {}, 'TransferWithAuthorization'), { config: c, depositSalt: '77' })).toMatchObject({ ok: false, code: 'sign_eip3009_shape_invalid' })
  })

  it('depositToNonEscrowAddress: an authorization to any other address is an exact payment to that payee (refused against batch requirements)', () => {
    const c = config()
    const r = decode(deposit(idOf(c), 77n, { to: AUTHORIZER }), { config: c, depositSalt: '77' })
    expect(r).toMatchObject({ ok: false, code: 'sign_requirements_mismatch' })
    expect(decode(deposit(idOf(c), 77n, { to: AUTHORIZER }), { config: c, depositSalt: '77' }, null)).toMatchObject({ ok: true, action: { kind: 'eip3009', payTo: AUTHORIZER } })
  })
  it('a Permit2 deposit: PermitWitnessTransferFrom to the Permit2 deposit collector, witness DepositWitness(channelId) of the named channel', () => {
    const c = config()
    const permit = (channelId: string, spender = '0x4020425FAf3B746C082C2f942b4E5159887B0005', witnessType = 'DepositWitness'): TypedDataJson => ({
      domain: { name: 'Permit2', chainId: 84532, verifyingContract: '0x000000000022D473030F116dDEE9F6B43aC78BA3' },
      types: {
        PermitWitnessTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }, { name: 'witness', type: witnessType }],
        TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }],
        [witnessType]: [{ name: 'channelId', type: 'bytes32' }],
      },
      primaryType: 'PermitWitnessTransferFrom',
      message: { permitted: { token: MOCK_USDC, amount: '7000' }, spender, nonce: '255', deadline: '1900000000', witness: { channelId } },
    })
    expect(decode(permit(idOf(c)), { config: c })).toMatchObject({ ok: true, action: { kind: 'batch_deposit', amount: '7000', channelId: idOf(c).toLowerCase(), validBefore: 1900000000, nonce: `0x${'0'.repeat(62)}ff` } })
    expect(decode(permit(idOf(config({ salt: `0x${'11'.repeat(32)}` }))), { config: c })).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(permit(idOf(c)))).toMatchObject({ ok: false, code: 'sign_batch_channel_invalid' })
    expect(decode(permit(idOf(c), COLLECTOR, 'DepositWitness'), { config: c })).toMatchObject({ ok: true, action: { kind: 'permit2_transfer' } })
    expect(decode(permit(idOf(c), undefined, 'Witness2'), { config: c })).toMatchObject({ ok: false, code: 'sign_permit2_shape_invalid' })
  })
})
