/**
 * Run as `node --expose-gc --import tsx test/helpers/sessionHeapProbe.ts`: opens SESSIONS_MAX agent sessions in one
 * fresh process and prints the retained heap per session (bytes) as JSON. A child process because `gc` must be
 * exposed at start-up: turning the flag on at run time (v8.setFlagsFromString) once hung a test worker for good.
 */
import type { AgentRecord } from '../../core/state/stateTypes.js'
import { SESSIONS_MAX, SESSIONS_PER_AGENT, openSession } from '../../enclave/agent/agentSessions.js'
import { randomKeyPair } from '../../shared/identity/randomKeyPair.js'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')
const agentPub = () => Buffer.from(randomKeyPair('x25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex')
const record = (i: number): AgentRecord => ({ agentId: `agt_${i.toString(16).padStart(40, '0')}`, publicKey: new Uint8Array(32).fill(i & 0xff), label: '', status: 'active', registeredAt: 0 })
const enclave = {}
const now = 1_000_000
const pubs = Array.from({ length: SESSIONS_MAX }, agentPub)
openSession(enclave, record(0), '0xw', 'open-0', pubs[0] as string, now)
gc()
const before = process.memoryUsage().heapUsed
for (let i = 1; i < SESSIONS_MAX; i++) openSession(enclave, record(Math.floor(i / SESSIONS_PER_AGENT)), '0xw', `open-${i}`, pubs[i] as string, now)
gc()
process.stdout.write(`${JSON.stringify({ perSession: (process.memoryUsage().heapUsed - before) / SESSIONS_MAX, sessions: SESSIONS_MAX })}\n`)
