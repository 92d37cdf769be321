import { describe, expect, it } from 'vitest'
import { eip3009, signAgentRequest } from '../../test/helpers/maliciousHost.js'
import { paymentEnclave } from '../../test/helpers/paymentEnclave.js'
import { dispatch } from '../protocol/dispatch.js'

/** A request queued in the writer behind a job that halts the enclave (a broken invariant) is not decided or signed. */
describe('enclave: an agent request queued behind a halt', () => {
  it('→ enclave_halted, no signature; the same request shape signs while ready', async () => {
    const { enclave, wallet, agent, clock } = await paymentEnclave({ perTx: '1000', rolling24h: '5000' })
    const pay = () => {
      const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1n }), issuedAt: clock.t })
      return { type: 'agentSign', request: r.request, signature: r.signature }
    }
    expect((await dispatch(enclave, pay())).ok).toBe(true)
    // A writer job ahead of the request breaks an invariant; the request passed the phase check on arrival.
    void enclave.queue.run(() => {
      try {
        enclave.halt('test: broken invariant')
      } catch {}
    })
    const r = await dispatch(enclave, pay())
    expect(r.ok ? 'signed' : r.error.code).toBe('enclave_halted')
    expect(JSON.stringify(r)).not.toMatch(/0x[0-9a-f]{130}/)
  })
})
