/**
 * rt34b, attack on host34's exact answer checks: exactCheckpoint remembers the last signature text its regex accepted
 * and skips the regex when the same text comes again. The memo started as '' — so in a fresh host process, before any
 * genuine checkpoint, a malicious enclave's checkpoint with `signature: ''` equalled the memo and was taken without
 * the regex: the host stored (and handed agents, in receipts) a checkpoint the zod schema — and every verifier —
 * refuses. Property: in a fresh module (no checkpoint seen yet), the exact checks refuse or defer what zod refuses.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { RESULT_SCHEMAS, ResponseFrameSchema } from '../../shared/protocol/messages.js'

const hex = (c: string, n: number) => `0x${c.repeat(n)}`
const checkpoint = (signature: string) => ({ seq: 3, head: hex('ab', 32), time: 1_764_000_000_000, signature })
const signed = (signature: string) => ({ signature: hex('11', 65), signedHash: hex('22', 32), receipt: { seq: 3, walletSeq: 1, entryHash: hex('33', 32), stateVersion: 4, checkpoint: checkpoint(signature) } })
const frame = (signature: string) => ({ id: 7, ok: true, result: signed(signature), persist: { entries: ['{"seq":3}'], checkpoint: checkpoint(signature), sealed: null } })

describe('attack: the enclave sends an empty checkpoint signature before any genuine one (exactCheckpoint memo)', () => {
  beforeEach(() => vi.resetModules()) // a fresh host process: nothing remembered yet

  it('a fresh exactCheckpoint refuses (defers) the empty signature, as zod refuses it', async () => {
    const { exactCheckpoint } = await import('../../host/enclave/exactCheckpoint.js')
    const { AuditCheckpointSchema } = await import('../../shared/audit/auditCheckpoint.js')
    expect(AuditCheckpointSchema.safeParse(checkpoint('')).success).toBe(false)
    expect(exactCheckpoint(checkpoint(''))).toBeNull()
  })

  it('a fresh host refuses the whole frame and the agentSign result (real codec bytes), as zod does', async () => {
    const { exactResponseFrame } = await import('../../host/enclave/exactResponseFrame.js')
    const { exactAgentSigned } = await import('../../host/enclave/exactAgentSigned.js')
    const f = decodeFrameBody(encodeFrame(frame('')).subarray(4))
    expect(ResponseFrameSchema.safeParse(f).success).toBe(false)
    expect(exactResponseFrame(f)).toBeNull()
    expect(RESULT_SCHEMAS.agentSign.safeParse(signed('')).success).toBe(false)
    expect(exactAgentSigned(signed(''))).toBeNull()
  })

  it('the memo still works after: a genuine text is taken, a refused one after it stays refused', async () => {
    const { exactCheckpoint } = await import('../../host/enclave/exactCheckpoint.js')
    const good = `0x${'cd'.repeat(64)}.0`
    expect(exactCheckpoint(checkpoint(good))).not.toBeNull()
    expect(exactCheckpoint(checkpoint(good))).not.toBeNull()
    expect(exactCheckpoint(checkpoint(''))).toBeNull()
    expect(exactCheckpoint(checkpoint(`0x${'cd'.repeat(64)}.00`))).toBeNull() // same prefix, refused spelling
    expect(exactCheckpoint(checkpoint(good.toUpperCase().replace('0X', '0x')))).toBeNull() // same length
  })
})
