import net from 'node:net'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { type AgentSignOk, MERCHANT, MaliciousHost, eip3009, paymentPolicy, refusalCode, signAgentRequest, verifyPayment } from '../helpers/maliciousHost.js'
import { MiB, hasSs as hasSsHere, unreadBytes } from '../helpers/partialFrames.js'
import { rawConnection } from '../helpers/rawConnection.js'
import { waitFor } from '../helpers/startStack.js'

/** The budget the enclave runs with here (the default 256 MiB works alike; it would take 256 MiB of test traffic). */
const BUDGET = 8 * MiB
/** Agents on the wallet, each with a ~9 KB policy (199 payees beside the merchant): one getWallets answer ~110 KB. */
const AGENTS = 12
/** getWallets frames per parking connection: fewer than TURN_FRAMES (32), so all are taken in one pump (none held). */
const ASKS = 31

const unread = unreadBytes
const hasSs = hasSsHere('hostParksWholeFramesPastFrameBudget')

/**
 * A connection that never reads: 31 getWallets (~3.4 MB of answers, past what the socket buffers take, so the enclave
 * keeps > 1 MiB unsent: UNREAD_BYTES), then, once the enclave has read those, one whole frame of `body` bytes. The
 * enclave reads that frame, finds the connection's answers not leaving and parks it (held, the socket paused): a whole
 * frame waiting, no partial frame, no stall timer (a held connection's stall is the enclave's choice).
 */
async function park(socketPath: string, body: number) {
  const socket = net.createConnection(socketPath)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.pause()
  socket.on('error', () => {})
  const asks = Buffer.concat(Array.from({ length: ASKS }, (_, i) => encodeFrame({ id: i + 1, msg: { type: 'getWallets' } })))
  await new Promise<void>((resolve, reject) => socket.write(asks, (err) => (err ? reject(err) : resolve())))
  await waitFor(() => unread(socketPath) === 0, 60_000, 'the enclave read the getWallets frames')
  const header = Buffer.alloc(4)
  header.writeUInt32BE(body)
  await new Promise<void>((resolve, reject) => socket.write(Buffer.concat([header, Buffer.alloc(body, 0x61)]), (err) => (err ? reject(err) : resolve())))
  return socket
}

/** Reads what a parked connection was sent: its answers, then one id-0 frame (its refusal, or once resumed the parked frame's own refusal). */
async function drain(socket: net.Socket): Promise<ResponseFrame[]> {
  const [reader, frames] = [new FrameReader(), [] as ResponseFrame[]]
  socket.on('data', (chunk: Buffer) => {
    for (const body of reader.push(chunk)) frames.push(ResponseFrameSchema.parse(decodeFrameBody(body)))
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.resume()
  await Promise.race([closed, waitFor(() => frames.length > ASKS, 60_000, 'the parked answers')])
  return frames
}

/**
 * Attack (rt42, on limits41/rt41's frame byte budget): rt41 made the budget refuse the connection holding the largest
 * *partial* frame, so partial frames held by an attacker no longer lock the honest host out. But a connection whose
 * answers do not leave (its peer does not read) is parked with the frames it has read and not taken (backlog): those are
 * whole frames, counted in the budget and ranked as nothing. A process that can open connections to the enclave (the
 * host, or anything beside it that reaches the socket / vsock port) parks whole frames adding up to the budget less a
 * little, and the honest connection's next frame is the one past it on a tie at 0: `enclave_frame_budget_full` (id 0),
 * connection closed, every time, for as long as the parked connections stay open (no stall timer: they are held).
 * Safe behaviour: frames read and not yet taken rank with the partial frame (refusing their connection loses no
 * decision: they were never dispatched), so a parking connection is refused and the honest agentSign is served.
 *
 * Real sim enclave process; budget 8 MiB: two connections park 4 MiB − 64 bytes and 4 MiB (all read by the enclave:
 * their Recv-Q empty; their unsent answers, ~3.3 MB each, stay under the same budget for answers), then the honest
 * connection (opened before) sends one agentSign.
 */
describe.skipIf(!hasSs)('adversarial: a host parks whole frames on connections it never reads, up to the frame budget (rt42)', () => {
  it('the honest agentSign is served (viem-verified); the largest parking connection is refused with enclave_frame_budget_full', async () => {
    const host = new MaliciousHost()
    host.env = { BURSAR_ENCLAVE_PENDING_FRAME_BYTES: String(BUDGET), BURSAR_FRAME_STALL_MS: '600000' }
    const parked: net.Socket[] = []
    try {
      await host.startEnclave()
      expect((await host.bootstrapHonest()).ok).toBe(true)
      const owner = privateKeyToAccount(generatePrivateKey())
      const wallet = await host.createWallet(owner)
      const policy = paymentPolicy({ perTx: '100', rolling24h: '50000' })
      policy.rules[0]!.payTo = { in: [MERCHANT, ...Array.from({ length: 199 }, () => privateKeyToAccount(generatePrivateKey()).address)] }
      const { agent } = await host.setupAgent(owner, wallet, policy)
      for (let i = 1; i < AGENTS; i++) await host.setupAgent(owner, wallet, policy)
      await host.waitAgentFloor()
      const honest = await rawConnection(host.socketPath)
      for (const body of [4 * MiB - 64, 4 * MiB]) parked.push(await park(host.socketPath, body))
      await waitFor(() => unread(host.socketPath) === 0, 60_000, 'the enclave read every parked byte')

      const req = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })
      honest.write(encodeFrame({ id: 1, msg: { type: 'agentSign', request: req.request, signature: req.signature } }))
      const [r] = await honest.waitFor(1)
      expect(r!.ok ? 'ok' : refusalCode(r!)).toBe('ok')
      expect(r!.id).toBe(1)
      expect(r!.ok && (await verifyPayment(wallet, req.parsed, (r!.result as AgentSignOk).signature))).toBe(true)
      honest.close()

      // The parked connections read at last: each got its 31 getWallets answers; then the largest (4 MiB) its
      // refusal (id 0, enclave_frame_budget_full), the other, resumed, the answer to its parked frame (not CBOR).
      const got = await Promise.all(parked.map(drain))
      for (const frames of got) expect(frames.slice(0, ASKS).every((f, i) => f.id === i + 1 && f.ok)).toBe(true)
      const last = got.map((frames) => (frames[ASKS]?.id === 0 ? refusalCode(frames[ASKS]) : frames[ASKS]?.id))
      expect(last).toEqual(['frame_invalid_cbor', 'enclave_frame_budget_full'])
      expect(host.proc!.exitCode).toBe(null)
      expect(host.logs.join('')).toContain('connection refused: frames not yet answered passed 8388608 bytes')
    } finally {
      for (const s of parked) s.destroy()
      await host.stop()
    }
  }, 240_000)
})
