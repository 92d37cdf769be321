import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_USDC } from './buildPaymentRequest.js'

let account: PrivateKeyAccount | undefined
const nonces = Array.from({ length: 256 }, () => `0x${randomBytes(32).toString('hex')}` as Hex)

/**
 * CPU microseconds (this process, user + system) per raw viem signTypedData of the bench's EIP-3009 payment,
 * measured over about `durationMs` of back-to-back signing: the unit every CPU ratio divides by. Synchronous
 * signing through viem's sign() would skip its async wrapper; this keeps the same call the baseline makes.
 */
export function rawSignatureCpuUs(durationMs: number): { cpuUs: number; opsPerSec: number; n: number } {
  account ??= privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
  const now = BigInt(Math.floor(Date.now() / 1000))
  const a = account
  const typed = (i: number) => ({
    domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC as Hex },
    types: { TransferWithAuthorization: [...EIP3009_FIELDS] },
    primaryType: 'TransferWithAuthorization' as const,
    message: { from: a.address, to: BENCH_PAY_TO as Hex, value: BigInt(BENCH_PRICE), validAfter: now - 600n, validBefore: now + 300n, nonce: nonces[i & 255]! },
  })
  // viem's signTypedData is async only by signature: it resolves without I/O, so a synchronous loop over its
  // promise-returning call is awaited below in one go per batch.
  for (let i = 0; i < 50; i++) void a.signTypedData(typed(i))
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < durationMs) for (let k = 0; k < 10; k++) void a.signTypedData(typed(n++))
  const c = process.cpuUsage(c0)
  const seconds = (performance.now() - t0) / 1000
  return { cpuUs: (c.user + c.system) / n, opsPerSec: n / seconds, n }
}
