import { describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { TOKEN, TRANSFER_TYPES, eip3009, paymentPolicy, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'
import { waitFor } from '../helpers/startStack.js'

/**
 * Attack: with a MAC session live, the host answers a MACed payment with the wallet's genuine signature of an
 * EARLIER payment (a valid wallet signature, just not over what was asked). Sessions change how the agent
 * authenticates to the enclave, not how the SDK checks the enclave's answer: bursarAccount refuses it
 * (response_signer_mismatch) exactly as with Ed25519 requests, and the next honest answer is accepted.
 */
describe('adversarial: the host swaps the answer to a MACed payment', () => {
  const posts: { path: string; mac: boolean; status: number }[] = []
  let swapNext = false
  let lastAnswer = ''
  const hostile: typeof fetch = async (input, init) => {
    const path = new URL(String(input)).pathname
    const res = await fetch(input, init)
    let answer = await res.text()
    const mac = (JSON.parse(String(init?.body)) as { signature: string }).signature.startsWith('s1:')
    posts.push({ path, mac, status: res.status })
    if (path === '/v1/agent/sign' && res.status === 200) {
      if (swapNext && mac) {
        swapNext = false
        answer = lastAnswer
      } else lastAnswer = answer
    }
    return new Response(answer, { status: res.status, headers: { 'content-type': 'application/json' } })
  }
  const typed = (op: ReturnType<typeof eip3009>) => {
    const m = op.typedData.message as Record<string, string>
    return {
      domain: { ...op.typedData.domain, verifyingContract: TOKEN } as never,
      types: { TransferWithAuthorization: TRANSFER_TYPES },
      primaryType: 'TransferWithAuthorization' as const,
      message: { ...m, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!) } as never,
    }
  }

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))

  it('the earlier payment’s signature returned for a MACed one: response_signer_mismatch; honest answers pass', async () => {
    const account = bursarAccount({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, fetch: hostile })
    const first = eip3009({ wallet: s.wallet, value: 1000n })
    expect(await verifyEip3009(s.wallet, first, await account.signTypedData(typed(first)))).toBe(true)
    await waitFor(() => posts.some((p) => p.path === '/v1/agent/session' && p.status === 200), 10_000, 'session open')
    // Paid until a payment goes out MACed (suite39: was a fixed 100 ms after the open's answer).
    let value = 1001n
    await waitFor(async () => {
      const second = eip3009({ wallet: s.wallet, value: value++ })
      expect(await verifyEip3009(s.wallet, second, await account.signTypedData(typed(second)))).toBe(true)
      return posts.filter((p) => p.path === '/v1/agent/sign').at(-1)!.mac
    }, 20_000, 'a payment MACed in the session')

    swapNext = true
    const third = eip3009({ wallet: s.wallet, value: 1002n })
    const code = await account.signTypedData(typed(third)).then(() => 'accepted', (e: { code?: string }) => e.code)
    expect(code).toBe('response_signer_mismatch')
    expect(posts.filter((p) => p.path === '/v1/agent/sign').at(-1)!.mac).toBe(true)

    const fourth = eip3009({ wallet: s.wallet, value: 1003n })
    expect(await verifyEip3009(s.wallet, fourth, await account.signTypedData(typed(fourth)))).toBe(true)
  }, 60_000)
})
