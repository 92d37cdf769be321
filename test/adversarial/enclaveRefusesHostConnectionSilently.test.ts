import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../shared/protocol/frame.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/requests.js'
import { type RawConnection, rawConnection } from '../helpers/rawConnection.js'
import { type Stack, startStack, waitFor } from '../helpers/startStack.js'

/**
 * rt42 (operator visibility, limits41/conn40b's refusals): when the enclave will not serve a connection it sends one
 * id-0 frame naming why (`enclave_connections_full`, `enclave_frame_budget_full`, `frame_too_large`) and closes it. The
 * honest host dropped that frame (no call has id 0) and only saw the close, so its log said nothing of why it kept
 * reconnecting: a process beside the host that holds the enclave's connections (here: the only one, the cap set to 1)
 * kept the host out with nothing in the host's log to say so. Now the host logs the code (at the 1st, 2nd, 4th…
 * refusal), and once the connection is free it connects and serves (the honest variant).
 *
 * Real sim enclave + host processes; the host's log (pino JSON, at info for this stack) is read.
 */
describe('adversarial: the enclave refuses the host\'s connection and the host does not say why (rt42)', () => {
  it('the host logs enclave_connections_full; once the squatter leaves it is ready again', async () => {
    let stack: Stack | null = null
    const squatter: RawConnection[] = []
    try {
      stack = await startStack({ env: { BURSAR_ENCLAVE_MAX_CONNECTIONS: '1', BURSAR_LOG_LEVEL: 'info' }, agentFloor: 'test' })
      await stack.stopHost()
      // The host's connection is gone (the enclave serves one at a time): a squatter takes the only place (its hello
      // answered, not refused: the host's old connection may close a moment after the host exits).
      await waitFor(
        async () => {
          const c = await rawConnection(stack!.socketPath)
          c.write(encodeFrame({ id: 1, msg: { type: 'hello', protocolVersion: PROTOCOL_VERSION } }))
          const [r] = await c.waitFor(1)
          if (r?.id === 1 && r.ok) return squatter.push(c) > 0
          c.close()
          return false
        },
        20_000,
        'the squatter holding the only place',
      )
      const mark = stack.logs.length
      await stack.startHost()
      const said = () => stack!.logs.slice(mark).join('').split('\n').find((l) => l.includes('enclave refused a connection of this host'))
      await waitFor(() => said() !== undefined, 30_000, 'the host logging the refusal', stack.logs)
      const line = said()!
      expect(JSON.parse(line).msg).toMatch(/^enclave refused a connection of this host \(1 so far\): enclave_connections_full: The enclave serves 1 connections at once$/)
      expect((await fetch(`${stack.url}/readyz`)).ok).toBe(false)

      // The squatter leaves: the host's next attempt is served and it becomes ready.
      squatter.pop()!.close()
      await stack.waitReady(30_000)
    } finally {
      for (const c of squatter) c.close()
      await stack?.stop()
    }
  }, 120_000)
})
