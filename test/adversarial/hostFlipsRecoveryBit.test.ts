import { secp256k1 } from '@noble/curves/secp256k1'
import { type Hex, hashTypedData, hexToBytes, isAddressEqual, recoverTypedDataAddress } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { eip3009, eip3009TypedData, paymentPolicy } from '../helpers/agentClient.js'
import { rewritingProxy } from '../helpers/rewritingProxy.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/**
 * Attack (a malicious host between the SDK and the real host + enclave): it lets the enclave sign, then flips the
 * answer's recovery bit (v 27 ↔ 28). The (r, s) pair is still the wallet's valid ECDSA signature over the payment —
 * a plain verify against the wallet's public key (what node's crypto.verify or libsecp256k1's ecdsaVerify would do
 * with the key learnt once) ACCEPTS it, because ECDSA verification only compares R's x coordinate — but ecrecover
 * on chain yields another address, so the payment the agent hands to the merchant can never settle. The SDK must
 * refuse it (response_signer_mismatch) before returning: it recovers the key (r, s AND v) and compares it with the
 * wallet's, it does not merely verify. Also checked: the honest answer is accepted through the same proxy.
 */
describe('adversarial: a malicious host flips the recovery bit of the wallet’s genuine signature', () => {
  let proxy: Awaited<ReturnType<typeof rewritingProxy>> | undefined
  let url = ''
  let flip = false
  const seen: { signature: Hex; flipped: Hex }[] = []

  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))
  beforeAll(async () => {
    proxy = await rewritingProxy(s.stack.url, (answer) => {
      if (!flip) return undefined
      const signature = answer.signature as Hex
      const v = Number.parseInt(signature.slice(130), 16)
      const flipped = `${signature.slice(0, 130)}${(v === 27 ? 28 : 27).toString(16)}` as Hex
      seen.push({ signature, flipped })
      return { ...answer, signature: flipped }
    })
    url = proxy.url
  })
  afterAll(async () => {
    await proxy?.close()
  })

  const typed = eip3009TypedData

  it('refused before and after the wallet key is learnt, although a plain verify against the wallet key accepts it', async () => {
    for (const learnFirst of [false, true]) {
      const account = bursarAccount({ host: url, agentKey: s.agentKey, wallet: s.wallet, timeoutMs: 10_000 })
      if (learnFirst) {
        flip = false
        await account.signTypedData(typed(eip3009({ wallet: s.wallet, value: AMOUNT }))) // honest: accepted, key learnt
      }
      flip = true
      const op = eip3009({ wallet: s.wallet, value: AMOUNT })
      await expect(account.signTypedData(typed(op))).rejects.toMatchObject({ code: 'response_signer_mismatch' })

      // Why recovery, not verification: the flipped answer is a valid (r, s) under the wallet's key over this digest…
      const { signature, flipped } = seen[seen.length - 1]!
      const digest = hexToBytes(hashTypedData(typed(op) as never))
      const walletKey = await recoverPublicKeyOf(typed(op), signature)
      const rs = hexToBytes(flipped).subarray(0, 64)
      expect(secp256k1.verify(rs, digest, walletKey, { lowS: true })).toBe(true)
      // …yet ecrecover of what the host sent names another address (the payment could never settle).
      const onChain = await recoverTypedDataAddress({ ...typed(op), signature: flipped } as never)
      expect(isAddressEqual(onChain, s.wallet)).toBe(false)
      expect(isAddressEqual(await recoverTypedDataAddress({ ...typed(op), signature } as never), s.wallet)).toBe(true)
    }
  }, 60_000)
})

/** The wallet's uncompressed public key, recovered (by noble, independently of the SDK) from its genuine signature. */
async function recoverPublicKeyOf(typedData: unknown, signature: Hex): Promise<Uint8Array> {
  const digest = hexToBytes(hashTypedData(typedData as never))
  const v = Number.parseInt(signature.slice(130), 16)
  const sig = secp256k1.Signature.fromCompact(signature.slice(2, 130)).addRecoveryBit(v - 27)
  return sig.recoverPublicKey(digest).toRawBytes(false)
}
