import { isAddressEqual, recoverTypedDataAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import type { SignResponse } from '../../agent/requestSignature.js'
import { type StackWithAgent, eip3009, eip3009TypedData, paymentPolicy, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

const AMOUNT = 1_000n

/**
 * Issue 15 (sdk15), the honest side: with receipt checks on (the default; the key from the key file), sequential and
 * concurrent payments — answers arriving in any order, several sharing one turn's checkpoint — all pass; every
 * signature is the wallet's (viem); every receipt is this request's and above the marks held when it was sent.
 */
describe('agent SDK receipt checks on an honest host', () => {
  let s: StackWithAgent
  beforeAll(async () => {
    s = await stackWithAgent(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 1_000n).toString() }))
    await waitAgentFloor()
  }, 60_000)
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('sequential, then 48 concurrent payments over two accounts of one wallet: all pass, receipts distinct and checked', async () => {
    const seen: SignResponse[] = []
    const make = () => bursarAccount({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 20_000, onReceipt: (r) => seen.push(r) })
    const [a, b] = [make(), make()]
    const pay = async (acc: ReturnType<typeof make>) => {
      const typed = eip3009TypedData(eip3009({ wallet: s.wallet, value: AMOUNT }))
      const signature = await acc.signTypedData(typed as never)
      expect(isAddressEqual(await recoverTypedDataAddress({ ...typed, signature } as never), s.wallet)).toBe(true)
    }
    for (let i = 0; i < 5; i++) await pay(a)
    await Promise.all(Array.from({ length: 48 }, (_, i) => pay(i % 2 ? a : b)))
    expect(seen.length).toBe(53)
    expect(seen.every((r) => r.receiptCheck !== undefined)).toBe(true)
    expect(new Set(seen.map((r) => r.receiptCheck!.seq)).size).toBe(53)
    expect(new Set(seen.map((r) => r.receiptCheck!.walletSeq)).size).toBe(53)
    const signed = seen.filter((r) => r.receiptCheck!.signed).length
    console.log(`receipts whose checkpoint signs their own entry: ${signed} of ${seen.length}`)
    expect(signed).toBeGreaterThanOrEqual(5) // the sequential ones at least
  }, 120_000)
})
