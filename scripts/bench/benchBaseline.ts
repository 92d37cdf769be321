import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { BENCH_CHAIN_ID, BENCH_PAY_TO, BENCH_PRICE, BENCH_USDC } from './buildPaymentRequest.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

export type BenchBaselineReturnType = { name: string; opsPerSec: number; n: number; seconds: number; /** This process's CPU (user + system) per signature. */ cpuUsPerOp: number }

/**
 * The number every end-to-end ratio divides by: viem's local
 * account.signTypedData of an EIP-3009 TransferWithAuthorization (the x402
 * payment) in this process on one core, each with a fresh EIP-3009 nonce.
 */
export async function benchBaseline({ durationMs = 3000 }: { durationMs?: number } = {}): Promise<BenchBaselineReturnType> {
  const account = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
  const nonces = Array.from({ length: 1024 }, () => `0x${randomBytes(32).toString('hex')}` as Hex)
  const now = BigInt(Math.floor(Date.now() / 1000))
  const signOne = (i: number) =>
    account.signTypedData({
      domain: { name: 'USDC', version: '2', chainId: BENCH_CHAIN_ID, verifyingContract: BENCH_USDC },
      types: {
        TransferWithAuthorization: [...EIP3009_FIELDS],
      },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: account.address,
        to: BENCH_PAY_TO,
        value: BigInt(BENCH_PRICE),
        validAfter: now - 600n,
        validBefore: now + 300n,
        nonce: nonces[i & 1023]!,
      },
    })
  for (let i = 0; i < 200; i++) await signOne(i) // warm-up (JIT)
  let n = 0
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  while (performance.now() - start < durationMs) {
    for (let k = 0; k < 20; k++) await signOne(n++)
  }
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { name: 'viem account.signTypedData EIP-3009, in process, 1 core', opsPerSec: Math.round(n / seconds), n, seconds: Math.round(seconds * 100) / 100, cpuUsPerOp: Math.round(((cpu.user + cpu.system) / n) * 10) / 10 }
}
