import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { concatHex, encodeAbiParameters, keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signAuditReadToken, verifyAuditReadToken } from './auditReadAuth.js'

const alice = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba')
const bob = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e')
const NOW = 1_767_225_600_000
const HOST = 'https://bursar.example'
const ORIGINS = [HOST]
const decode = (t: string) => JSON.parse(Buffer.from(t, 'base64url').toString('utf8'))
const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

describe('audit read tokens (EIP-712 AuditRead)', () => {
  it('signs the EIP-712 digest an independent implementation computes (domain {bursar, 1}, AuditRead(address owner,string host,uint64 expiresAt))', async () => {
    const token = await signAuditReadToken({ account: alice, host: HOST, expiresAt: NOW + 60_000 })
    const { owner, host, expiresAt, signature } = decode(token)
    expect(owner).toBe(alice.address)
    expect(host).toBe(HOST)
    // Hand-rolled EIP-712 hash: keccak(0x1901 ‖ domainSeparator ‖ structHash).
    const domainSep = keccak256(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
        [keccak256(toHex('EIP712Domain(string name,string version)')), keccak256(toHex('bursar')), keccak256(toHex('1'))],
      ),
    )
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'address' }, { type: 'bytes32' }, { type: 'uint64' }],
        [keccak256(toHex('AuditRead(address owner,string host,uint64 expiresAt)')), alice.address, keccak256(toHex(HOST)), BigInt(expiresAt)],
      ),
    )
    const digest = keccak256(concatHex(['0x1901', domainSep, structHash]))
    const sig = Buffer.from(signature.slice(2), 'hex')
    const recovered = secp256k1.Signature.fromCompact(sig.subarray(0, 64)).addRecoveryBit(sig[64]! - 27).recoverPublicKey(Buffer.from(digest.slice(2), 'hex').toString('hex'))
    const pub = recovered.toRawBytes(false).subarray(1)
    const address = `0x${Buffer.from(keccak_256(pub).subarray(12)).toString('hex')}`
    expect(address).toBe(alice.address.toLowerCase())
    expect(await verifyAuditReadToken({ token, now: NOW, origins: ORIGINS })).toEqual({ ok: true, owner: alice.address, host: HOST, expiresAt: NOW + 60_000 })
  })

  it('refuses expired, too long-lived, re-addressed, altered and malformed tokens, each with its code', async () => {
    const token = await signAuditReadToken({ account: alice, host: HOST, expiresAt: NOW + 60_000 })
    expect(await verifyAuditReadToken({ token, now: NOW + 60_000, origins: ORIGINS })).toMatchObject({ ok: false, code: 'audit_token_expired' })
    const long = await signAuditReadToken({ account: alice, host: HOST, expiresAt: NOW + 25 * 3600_000 })
    expect(await verifyAuditReadToken({ token: long, now: NOW, origins: ORIGINS })).toMatchObject({ ok: false, code: 'audit_token_lifetime_too_long' })
    const bobs = decode(await signAuditReadToken({ account: bob, host: HOST, expiresAt: NOW + 60_000 }))
    expect(await verifyAuditReadToken({ token: encode({ ...bobs, owner: alice.address }), now: NOW, origins: ORIGINS })).toMatchObject({ ok: false, code: 'audit_token_invalid' })
    const t = decode(token)
    // Audience: a token for another host is refused here, and re-addressing it breaks the signature.
    expect(await verifyAuditReadToken({ token, now: NOW, origins: ['https://other.example'] })).toMatchObject({ ok: false, code: 'audit_token_wrong_host' })
    expect(await verifyAuditReadToken({ token: encode({ ...t, host: 'https://other.example' }), now: NOW, origins: ['https://other.example'] })).toMatchObject({ ok: false, code: 'audit_token_invalid' })
    expect(decode(await signAuditReadToken({ account: alice, host: 'HTTPS://Bursar.Example:443/path?q', expiresAt: NOW + 1 })).host).toBe(HOST)
    expect(await verifyAuditReadToken({ token: encode({ ...t, expiresAt: t.expiresAt + 1 }), now: NOW, origins: ORIGINS })).toMatchObject({ ok: false, code: 'audit_token_invalid' })
    for (const bad of ['', 'a b', encode({ ...t, extra: 1 }), encode({ ...t, expiresAt: String(t.expiresAt) }), encode({ ...t, host: undefined }), encode([t]), 'x'.repeat(2000)])
      expect(await verifyAuditReadToken({ token: bad, now: NOW, origins: ORIGINS })).toMatchObject({ ok: false, code: 'audit_token_malformed' })
  })
})
