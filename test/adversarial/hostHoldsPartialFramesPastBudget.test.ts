import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { PENDING_FRAME_BYTES } from '../../enclave/transport/serveFrames.js'
import { MAX_FRAME_BYTES, encodeFrame } from '../../shared/protocol/frame.js'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import { GOVERNANCE_PROTOCOL_VERSION } from '../../shared/governance/governanceProtocol.js'
import { governancePid } from '../helpers/governancePid.js'
import { refusalCode } from '../helpers/maliciousHost.js'
import { MiB, partialFrame, payingEnclave, readFrames, rssMiB } from '../helpers/partialFrames.js'
import { rawConnection } from '../helpers/rawConnection.js'
import { waitFor } from '../helpers/startStack.js'

/** The budget the enclave runs with here (the default, 256 MiB, would need 256 MiB of test traffic to reach). */
const BUDGET = 8 * MiB
/** Each attacking connection: a header claiming the largest frame, then this much of its body, never finished. */
const HELD = 1.5 * MiB
const ATTACKERS = 10
/** Whole HELD bodies that fit the budget beside the honest connection (which holds nothing between its calls). */
const FIT = Math.floor(BUDGET / HELD)

type Attacker = { socket: net.Socket; refusals: ResponseFrame[]; closed: boolean; written: boolean }

/**
 * Every attacker connects to `socketPath` and writes a frame header claiming MAX_FRAME_BYTES and HELD bytes of its
 * body, never the rest; resolves once `done` holds (a condition on what the attackers saw, or on the server's memory).
 */
async function holdPartialFrames(socketPath: string, done: (attackers: Attacker[]) => boolean): Promise<Attacker[]> {
  const bytes = partialFrame(HELD)
  const attackers = Array.from({ length: ATTACKERS }, () => {
    const a: Attacker = { socket: net.createConnection(socketPath), refusals: [], closed: false, written: false }
    readFrames(a.socket, a.refusals)
    a.socket.on('close', () => (a.closed = true))
    a.socket.on('error', () => {})
    a.socket.write(bytes, (err) => (a.written = !err))
    return a
  })
  await waitFor(() => done(attackers), 60_000, 'the attack settled')
  return attackers
}

/**
 * Refusals go one at a time and each lets its connection's bytes go; one happens only while more than FIT connections
 * hold bytes (FIT × HELD ≤ budget). So once ATTACKERS − FIT are refused, no more can be, and each one left has its
 * bytes written: the attack has settled (counted, not timed).
 */
const settledAtBudget = (as: Attacker[]) => as.filter((a) => a.closed).length === ATTACKERS - FIT && as.every((a) => a.closed || a.written)
/** Without the budget (control): every byte written and the server's RSS grown past the budget (it holds them all). */
const heldPastBudget = (pid: number, before: number) => (as: Attacker[]) => as.every((a) => a.written) && (rssMiB(pid) - before) * MiB > BUDGET

/**
 * Attack (limits41, the gap conn40b left): a host holds a partial frame on every connection it may open — a header
 * claiming MAX_FRAME_BYTES (32 MiB) and part of the body, trickled past the stall timer — so the enclave holds up to
 * BURSAR_ENCLAVE_MAX_CONNECTIONS × 32 MiB = 2 GiB at the defaults: the whole of a 2,048 MiB Nitro enclave, an OOM
 * that halts the signer. Safe behaviour: one byte budget across connections for frames received and not yet answered
 * (BURSAR_ENCLAVE_PENDING_FRAME_BYTES, default 256 MiB); the connection whose bytes would pass it gets one
 * `enclave_frame_budget_full` frame (id 0) and is closed, its partial frame let go; the others are served on.
 *
 * Real sim enclave process (and governance's, the same frame server), budget 8 MiB here: 10 attackers × 1.5 MiB
 * (15 MiB asked) → exactly 5 keep their partial frames (7.5 MiB), 5 are refused with the code; the honest host's
 * connection, opened before, then pays (viem-verified) beside them. The control lifts the budget (1 GiB): all 10 hold
 * their bytes (the enclave's and governance's RSS grow past the budget), none refused: the code before this change.
 */
async function attack(budget: number) {
  const { host, pid, pay } = await payingEnclave({
    BURSAR_ENCLAVE_PENDING_FRAME_BYTES: String(budget),
    BURSAR_GOVERNANCE_PENDING_FRAME_BYTES: String(budget),
    BURSAR_FRAME_STALL_MS: '600000',
  })
  const open: Attacker[] = []
  try {
    await pay()
    const before = rssMiB(pid)
    const lifted = budget > ATTACKERS * HELD
    const signer = await holdPartialFrames(host.socketPath, lifted ? heldPastBudget(pid, before) : settledAtBudget)
    open.push(...signer)
    const grown = (rssMiB(pid) - before) * MiB
    await pay() // the honest connection, opened before the attack, pays beside the held partial frames
    // Governance's process: the same attack on its socket, then an honest hello on a fresh connection.
    const gpid = governancePid(pid)
    const gBefore = rssMiB(gpid)
    const gov = await holdPartialFrames(`${host.socketPath}.gov`, lifted ? heldPastBudget(gpid, gBefore) : settledAtBudget)
    open.push(...gov)
    const hello = await rawConnection(`${host.socketPath}.gov`)
    hello.write(encodeFrame({ id: 1, msg: { type: 'hello', protocolVersion: GOVERNANCE_PROTOCOL_VERSION } }))
    const [h] = await hello.waitFor(1)
    hello.close()
    expect(h).toMatchObject({ id: 1, ok: true, result: { protocolVersion: GOVERNANCE_PROTOCOL_VERSION } })
    expect(host.proc!.exitCode).toBe(null)
    console.log(`hostHoldsPartialFramesPastBudget: budget ${budget / MiB} MiB: signer ${signer.filter((a) => !a.closed).length} held / ${signer.filter((a) => a.closed).length} refused, RSS +${(grown / MiB).toFixed(1)} MiB; governance ${gov.filter((a) => !a.closed).length} held / ${gov.filter((a) => a.closed).length} refused`)
    // What each side ended with, taken before the sockets are closed below.
    const outcome = (as: Attacker[]) => ({ held: as.filter((a) => !a.closed).map((a) => a.refusals), refused: as.filter((a) => a.closed).map((a) => a.refusals) })
    return { logs: host.logs.join(''), signer: outcome(signer), gov: outcome(gov) }
  } finally {
    for (const a of open) a.socket.destroy()
    await host.stop()
  }
}

describe('adversarial: a host holds partial frames on many connections past the enclave\'s byte budget (limits41)', () => {
  it('past the budget a connection is refused with enclave_frame_budget_full and closed; the held bytes stay within it; the honest connection pays', async () => {
    const { logs, signer, gov } = await attack(BUDGET)
    for (const { held, refused } of [signer, gov]) {
      // Refusals go one at a time and each lets its bytes go, so exactly the connections that fit keep theirs.
      expect(held.length).toBe(FIT)
      expect(held.length * HELD).toBeLessThanOrEqual(BUDGET)
      expect(held.every((r) => r.length === 0)).toBe(true)
      expect(refused.length).toBe(ATTACKERS - FIT)
      for (const r of refused) {
        expect(r.length).toBe(1)
        expect(r[0]!.id).toBe(0)
        expect(refusalCode(r[0]!)).toBe('enclave_frame_budget_full')
      }
    }
    expect(logs).toMatch(/\[enclave\] connection refused: frames not yet answered passed 8388608 bytes \(BURSAR_ENCLAVE_PENDING_FRAME_BYTES\); 1 refused so far/)
    expect(logs).toMatch(/\[governance\] connection refused: frames not yet answered passed 8388608 bytes/)
  }, 180_000)

  it('control, the budget lifted (1 GiB): every attacker keeps its partial frame, each process holds more than the budget, none is refused', async () => {
    const { signer, gov } = await attack(1024 * MiB)
    for (const { held, refused } of [signer, gov]) {
      expect(refused).toEqual([])
      expect(held.length).toBe(ATTACKERS)
      expect(held.every((r) => r.length === 0)).toBe(true)
    }
  }, 180_000)

  it('the default budget is the documented one: eight of the largest frames', () => {
    expect(PENDING_FRAME_BYTES).toBe(256 * MiB)
    expect(PENDING_FRAME_BYTES / MAX_FRAME_BYTES).toBe(8)
  })
})
