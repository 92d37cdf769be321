import { decode, encode } from 'cborg'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import {
  type MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: the host hands the enclave a snapshot it did not seal (another
 * enclave's, sealed under another key), or a truncated / bit-flipped /
 * re-labelled copy of its own. Defined outcome: loadState is refused with a
 * seal_* code and the enclave stays in awaiting_state; the real snapshot
 * still loads afterwards. Starting fresh (null) is allowed — it yields an
 * enclave with no wallets and a new receipt key, so nothing of the old
 * wallets can be signed and the reset is visible to every auditor.
 */
describe('adversarial: foreign and corrupted snapshots', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let own: SealedSnapshot
  let foreign: SealedSnapshot
  let receiptKey: string

  beforeAll(async () => {
    ;({ host, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    own = host.latestSnapshot()!
    const other = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    foreign = other.host.latestSnapshot()!
    await other.host.stop()
    await host.restartEnclave()
  }, 60_000)
  afterAll(async () => {
    await host?.stop()
  })

  const phase = async () => {
    const h = await host.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    return h.ok ? (h.result as { phase: string }).phase : `error:${h.error.code}`
  }
  const flip = (b: Uint8Array, at: number) => {
    const c = new Uint8Array(b)
    c[at] = c[at]! ^ 0x01
    return c
  }
  const relabel = (b: Uint8Array, f: (o: Record<string, unknown>) => void) => {
    const o = decode(b) as Record<string, unknown>
    f(o)
    return encode(o)
  }

  it('refuses each bad blob with a seal code and stays in awaiting_state (no signing)', async () => {
    const ct = (decode(own.blob) as { ct: Uint8Array }).ct
    const ctAt = Buffer.from(own.blob).indexOf(Buffer.from(ct))
    expect(ctAt).toBeGreaterThan(0)
    const cases: [string, Uint8Array, string][] = [
      ["another enclave's snapshot (other sealing key)", foreign.blob, 'seal_auth_failed'],
      ['truncated', own.blob.subarray(0, own.blob.length - 7), 'seal_blob_malformed'],
      ['empty', new Uint8Array(0), 'seal_blob_malformed'],
      ['GCM tag byte flipped', flip(own.blob, ctAt + ct.length - 1), 'seal_auth_failed'],
      ['ciphertext byte flipped', flip(own.blob, ctAt + 3), 'seal_auth_failed'],
      ['iv relabelled', relabel(own.blob, (o) => (o.iv = flip(o.iv as Uint8Array, 0))), 'seal_auth_failed'],
      ['version relabelled (+1)', relabel(own.blob, (o) => (o.version = (o.version as number) + 1)), 'seal_auth_failed'],
      ['purpose relabelled', relabel(own.blob, (o) => (o.purpose = 'wallet-key')), 'seal_context_mismatch'],
      ['kind relabelled', relabel(own.blob, (o) => (o.kind = 'kms')), 'seal_blob_malformed'],
      ['extra key', relabel(own.blob, (o) => (o.extra = 1)), 'seal_blob_malformed'],
    ]
    for (const [name, blob, code] of cases) {
      const r = await host.call({ type: 'loadState', snapshot: blob })
      expect(`${name}: ${refusalCode(r)}`).toBe(`${name}: ${code}`)
      expect(await phase()).toBe('awaiting_state')
      const s = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
      expect(refusalCode(s)).toBe('enclave_not_ready')
      expect(hasSignature(s)).toBe(false)
    }
    // The enclave is still usable: its own snapshot loads and the wallet is back.
    const { last } = await host.bootstrap({ snapshot: own.blob, entries: host.entriesAfter(own.auditSeq) })
    expect(last.ok).toBe(true)
    receiptKey = (last as { result: { receiptPublicKey: string } }).result.receiptPublicKey
    expect((await host.wallets()).map((w) => w.address)).toContain(wallet)
  })

  it('a fresh start (null snapshot) instead: no wallets, a new receipt key, audit chain restarted at seq 0; the old wallet cannot sign', async () => {
    await host.restartEnclave()
    const { last } = await host.bootstrap({ snapshot: null })
    expect(last.ok).toBe(true)
    const ready = (last as { result: { wallets: number; receiptPublicKey: string; auditHead: { seq: number } } }).result
    expect(ready.wallets).toBe(0)
    expect(ready.receiptPublicKey).not.toBe(receiptKey)
    expect(ready.auditHead.seq).toBe(0)
    await host.waitAgentFloor()
    const s = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }) }))
    expect(refusalCode(s)).toBe('wallet_not_found')
    expect(hasSignature(s)).toBe(false)
  })
})
