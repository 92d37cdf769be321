import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import { MERCHANT, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const PER_TX = 10n ** 30n

/**
 * Red team rt37b on cpu37's Keccak (core/decode/keccak256Bytes.ts: hash-wasm's WebAssembly for the EIP-3009 digest, one
 * hasher reset before each use; @noble/hashes when WebAssembly does not compile). Attack: make the enclave sign a
 * digest other than the authorization's: state left in the WebAssembly instance between payments (each with other
 * values, nonces and times, 8 at a time), and the fallback path (an enclave whose V8 runs --jitless: no WebAssembly).
 * Both enclaves, one per engine (its start-up log names it), must sign every authorization so that viem's
 * verifyTypedData (its own Keccak) recovers the wallet.
 */
describe('adversarial: the enclave signs another EIP-3009 digest (hash-wasm state, the noble fallback)', () => {
  const policy = paymentPolicy({ perTx: PER_TX.toString(), rolling24h: (PER_TX * 1000n).toString() })
  const stacks = { 'hash-wasm': stackWithAgentPerFile(policy), noble: stackWithAgentPerFile(policy, { enclaveNodeArgs: ['--jitless'] }) }

  for (const engine of ['hash-wasm', 'noble'] as const) {
    it(`${engine}: 64 payments, other values and nonces each, every signature over the authorization as sent`, async () => {
      const s = stacks[engine]
      expect(s.stack.logs.join('')).toContain(`keccak ${engine})`)
      for (let i = 0; i < 64; i += 8) {
        await Promise.all(Array.from({ length: 8 }, async (_, j) => {
          const value = [1n, PER_TX, BigInt(`0x${randomBytes(12).toString('hex')}`), 2n ** 64n + BigInt(i + j)][(i + j) % 4]!
          const nonce = (j % 3 === 0 ? `0x${'ff'.repeat(31)}${(i + j).toString(16).padStart(2, '0')}` : `0x${randomBytes(32).toString('hex')}`) as Hex
          const op = eip3009({ wallet: s.wallet, value, nonce, to: (j % 2 ? MERCHANT.toLowerCase() : MERCHANT) as Hex })
          const r = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op }))
          expect(r.status, JSON.stringify(r.json)).toBe(200)
          expect(await verifyEip3009(s.wallet, op, r.json.signature as Hex)).toBe(true)
        }))
      }
    }, 120_000)
  }
})
