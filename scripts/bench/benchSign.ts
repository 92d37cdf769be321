import { type Hex, hashTypedData } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { decodeSignRequest } from '../../core/decode/decodeSignRequest.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../test/helpers/mockSignRequest.js'
import { signPlan } from '../../enclave/sign/signPlan.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

export type BenchSignParameters = { durationMs?: number }
export type BenchSignReturnType = { name: string; opsPerSec: number }[]

const NONCE = `0x${'5a'.repeat(32)}` as Hex
const TYPED: TypedDataJson = {
  domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
  types: {
    TransferWithAuthorization: [...EIP3009_FIELDS],
  },
  primaryType: 'TransferWithAuthorization',
  message: { from: MOCK_WALLET, to: MOCK_PAY_TO, value: '10000', validAfter: '0', validBefore: '1900000000', nonce: NONCE },
}
const VIEM_TYPED = {
  ...TYPED,
  domain: { ...TYPED.domain, chainId: 84532 },
  message: { ...TYPED.message, value: 10000n, validAfter: 0n, validBefore: 1900000000n },
} as unknown as Parameters<typeof hashTypedData>[0]

type Case = { name: string; fn: () => unknown; rates: number[] }

// Interleaved rounds, median rate: a loaded machine slows every case alike instead of whichever ran last.
async function measure(cases: Case[], durationMs: number): Promise<BenchSignReturnType> {
  for (const c of cases) for (let i = 0; i < 20; i++) await c.fn()
  const rounds = 5
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      let ops = 0
      const start = performance.now()
      let now = start
      while (now - start < durationMs / rounds) {
        for (let i = 0; i < 10; i++) await c.fn()
        ops += 10
        now = performance.now()
      }
      c.rates.push((ops * 1000) / (now - start))
    }
  }
  return cases.map((c) => ({ name: c.name, opsPerSec: Math.round(c.rates.sort((a, b) => a - b)[rounds >> 1]!) }))
}

/**
 * Micro-benchmark of the x402 hot path: bursar's decode + sign of an EIP-3009
 * authorization against viem's signTypedData (async only because viem's is).
 */
export async function benchSign({ durationMs = 2000 }: BenchSignParameters = {}): Promise<BenchSignReturnType> {
  const request = mockSignRequest({ op: 'signTypedData', typedData: TYPED })
  const key = Uint8Array.from(Buffer.from(MOCK_PRIVATE_KEY.slice(2), 'hex'))
  const account = privateKeyToAccount(MOCK_PRIVATE_KEY)
  const decode = () => decodeSignRequest({ request, wallet: MOCK_WALLET, registry: MOCK_REGISTRY })
  const first = decode()
  if (!first.ok) return []
  const plan = first.plan
  const c = (name: string, fn: () => unknown): Case => ({ name, fn, rates: [] })
  return measure(
    [
      c('bursar decodeSignRequest + signPlan (EIP-3009)', () => {
        const r = decode()
        return r.ok && signPlan({ privateKey: key, plan: r.plan })
      }),
      c('viem account.signTypedData (EIP-3009)', () => account.signTypedData(VIEM_TYPED as never)),
      c('bursar decodeSignRequest only (EIP-3009)', decode),
      c('viem hashTypedData only (EIP-3009)', () => hashTypedData(VIEM_TYPED)),
      c('bursar signPlan only', () => signPlan({ privateKey: key, plan })),
    ],
    durationMs,
  )
}
