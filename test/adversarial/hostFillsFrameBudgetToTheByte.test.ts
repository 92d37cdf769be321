import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../shared/protocol/frame.js'
import { type AgentSignOk, eip3009, refusalCode, signAgentRequest, verifyPayment } from '../helpers/maliciousHost.js'
import { MiB, hasSs as hasSsHere, partialFrame, payingEnclave, unreadBytes } from '../helpers/partialFrames.js'
import { rawConnection } from '../helpers/rawConnection.js'
import { waitFor } from '../helpers/startStack.js'

/** The budget the enclave runs with here (the default 256 MiB works alike; it would take 256 MiB of test traffic). */
const BUDGET = 8 * MiB
/** What the attack leaves free: less than any agentSign frame. */
const SLACK = 64

const unread = unreadBytes
const hasSs = hasSsHere('hostFillsFrameBudgetToTheByte')

/** A connection that writes a header claiming the largest frame and `body` bytes of it, never the rest. */
async function holdPartial(socketPath: string, body: number) {
  const socket = net.createConnection(socketPath)
  let closed = false
  socket.on('close', () => (closed = true))
  socket.on('error', () => {})
  socket.resume() // reads (and drops) the refusal, so its close is seen
  await new Promise<void>((resolve, reject) => socket.write(partialFrame(body), (err) => (err ? reject(err) : resolve())))
  return { socket, closed: () => closed }
}

/**
 * Attack (rt41, on limits41's byte budget): a process that can open connections to the enclave (the host, or
 * anything beside it that reaches the socket / vsock port) holds partial frames on a few connections adding up to the
 * budget less 64 bytes (trickled past the stall timer in life; the timer is long here). Past the budget the enclave
 * refused the connection whose bytes came last: the honest host's next frame, every time, so every agent payment was
 * refused with enclave_frame_budget_full and its connection closed while the holders stayed (a lock-out held for
 * the price of 8 MiB here, 256 MiB at the default). Safe behaviour: past the budget the connection holding the most
 * bytes of partial frame is refused (the arriving one on a tie or if none holds one), so the honest connection's small frame is served and an attacker's
 * held bytes go.
 *
 * Real sim enclave process; budget 8 MiB: four connections hold 1.5 MiB each and a fifth 2 MiB − 64 bytes (all read
 * by the enclave: their Recv-Q empty); then the honest connection (opened before) sends one agentSign. The control:
 * the same with 1 MiB less held: the honest payment goes through either way.
 */
async function attack(fill: number) {
  const { host, wallet, agent } = await payingEnclave({ BURSAR_ENCLAVE_PENDING_FRAME_BYTES: String(BUDGET), BURSAR_FRAME_STALL_MS: '600000' })
  const held: Array<Awaited<ReturnType<typeof holdPartial>>> = []
  try {
    const honest = await rawConnection(host.socketPath)
    const parts = [...Array.from({ length: 4 }, () => 1.5 * MiB), fill - 6 * MiB]
    for (const body of parts) held.push(await holdPartial(host.socketPath, body))
    await waitFor(() => unread(host.socketPath) === 0, 60_000, 'the enclave read every held byte')
    const req = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })
    honest.write(encodeFrame({ id: 1, msg: { type: 'agentSign', request: req.request, signature: req.signature } }))
    const [r] = await honest.waitFor(1)
    honest.close()
    expect(host.proc!.exitCode).toBe(null)
    const paid = r!.ok ? await verifyPayment(wallet, req.parsed, (r!.result as AgentSignOk).signature) : false
    // Past the budget one holder was refused (its close arrives after the honest answer may have): wait for it then.
    if (r!.ok && fill > BUDGET - MiB) await waitFor(() => held.some((h) => h.closed()), 30_000, 'a holder refused')
    return { r: r!, paid, refusedHolders: held.filter((h) => h.closed()).length, largestRefused: held[held.length - 1]!.closed() }
  } finally {
    for (const h of held) h.socket.destroy()
    await host.stop()
  }
}

describe.skipIf(!hasSs)('adversarial: a host fills the enclave\'s frame byte budget to the byte (rt41)', () => {
  it('held partial frames at the budget less 64 bytes: the honest agentSign is served (viem-verified), the largest holder refused', async () => {
    const { r, paid, refusedHolders, largestRefused } = await attack(BUDGET - SLACK)
    expect(r.ok ? 'ok' : refusalCode(r)).toBe('ok')
    expect(r.id).toBe(1)
    expect(paid).toBe(true)
    expect(refusedHolders).toBe(1)
    expect(largestRefused).toBe(true)
  }, 180_000)

  it('control: 1 MiB of room left, the honest agentSign is served and no holder is refused', async () => {
    const { r, paid, refusedHolders } = await attack(BUDGET - MiB)
    expect(r.ok).toBe(true)
    expect(paid).toBe(true)
    expect(refusedHolders).toBe(0)
  }, 180_000)
})
