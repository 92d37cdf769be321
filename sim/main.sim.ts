/**
 * SIMULATION entrypoint: the real enclave code with a mock NSM (simulation
 * PKI) and, by default, a local file sealing key. NOT SECURE: the host
 * machine can read the sealing key. BURSAR_SEALER=kms runs the production KMS
 * sealing path (real @aws-sdk/client-kms) against BURSAR_KMS_ENDPOINT with
 * the simulated NSM. Never used in Nitro mode (see main.ts).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import * as z from 'zod'
import { EnclaveEnvSchema, parseListen } from '../enclave/config.js'
import { createMockNsm } from './mockNsm.js'
import { runEnclave } from '../enclave/runEnclave.js'
import { sealerFromEnv } from './sealerFromEnv.js'
import { startGovernanceBeside } from './startGovernanceBeside.js'
import { lowerStateLimit } from './lowerStateLimit.js'
import { createSimClock } from './simClock.js'
import { AGENT_CLOCK_AHEAD_MS } from '../shared/schemas/agentRequest.js'
import { parseAdmission } from '../shared/owner/parseAdmission.js'
import { governanceAddressOf } from '../shared/governance/governanceProtocol.js'

const env = EnclaveEnvSchema.extend({
  BURSAR_DATA_DIR: z.string().default('./data'),
  /** nitro here = the production KMS sealing path with the simulated NSM (no /dev/nsm outside an enclave). */
  BURSAR_MODE: z.enum(['sim', 'nitro']).default('sim'),
  BURSAR_SEALER: z.enum(['sim', 'kms']).optional(),
  /** A full key ARN, as in Nitro mode (kmsSealer refuses aliases). */
  BURSAR_KMS_KEY_ID: z.string().default('arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000'),
  /** Owner addresses allowed to create wallets (comma-separated); unset = OPEN (simulation only). */
  BURSAR_OWNER_ALLOWLIST: z.string().optional(),
  BURSAR_KMS_ENDPOINT: z.string().url().optional(),
  /** Tests only: a file holding a clock offset in ms (sim/simClock.ts), so time locks pass without real waiting. */
  BURSAR_SIM_CLOCK_FILE: z.string().min(1).optional(),
  /** Issue 12 stage B: where the governance process this entry starts beside the enclave listens (default: the enclave's socket + .gov). */
  BURSAR_GOVERNANCE_LISTEN: z.string().optional(),
  /** Tests only: a lower soft state limit (sim/lowerStateLimit.ts; the governance process started below reads it too). */
  BURSAR_SIM_STATE_SOFT_BYTES: z.coerce.number().int().positive().optional(),
  /**
   * Tests only (floor40b): the agent start floor's distance from the enclave's start, 0..2000 ms (production: 2000,
   * the agent clock-ahead allowance). Test stacks that do not test the floor pass 0 (requests issued after the start
   * are accepted at once); enclave/main.ts has no such setting (scripts/checkBoundaries.ts: not in the closure).
   */
  BURSAR_SIM_AGENT_START_FLOOR_MS: z.coerce.number().int().min(0).max(AGENT_CLOCK_AHEAD_MS).optional(),
}).parse(process.env)
const log = (line: string) => process.stderr.write(`[enclave] ${line}\n`)
lowerStateLimit(env.BURSAR_SIM_STATE_SOFT_BYTES, log)
mkdirSync(env.BURSAR_DATA_DIR, { recursive: true })
log('*** SIMULATION MODE — NOT SECURE: attestation is signed by a simulation CA; sealing key is local unless BURSAR_SEALER=kms ***')
const nsm = await createMockNsm({
  pkiDir: path.join(env.BURSAR_DATA_DIR, 'sim-pki'),
  measuredFile: process.argv[1] ?? '',
})
const sealer = await sealerFromEnv(env, nsm, log)
log(`sealer: ${sealer.kind}`)
if (env.BURSAR_SIM_AGENT_START_FLOOR_MS !== undefined) log(`*** AGENT START FLOOR start + ${env.BURSAR_SIM_AGENT_START_FLOOR_MS} ms, not start + ${AGENT_CLOCK_AHEAD_MS} ms (tests only) ***`)
if (env.BURSAR_SIM_CLOCK_FILE) log(`*** CONTROLLABLE CLOCK: wall time + the offset in ${env.BURSAR_SIM_CLOCK_FILE} (tests only) ***`)
const admission = parseAdmission(env.BURSAR_OWNER_ALLOWLIST)
if (admission.kind === 'open') {
  log('*** WALLET CREATION IS OPEN: anyone who reaches this host can create wallets. Set BURSAR_OWNER_ALLOWLIST=0x…,0x… to restrict it (Nitro mode requires it) ***')
} else {
  log(`wallet creation: ${admission.owners.size} allowlisted owner(s)`)
}
// Issue 12 stage B: governance is its own process (dist/governance.sim.mjs), started beside the enclave; it ends with it.
startGovernanceBeside(env.BURSAR_GOVERNANCE_LISTEN ?? governanceAddressOf(env.BURSAR_ENCLAVE_LISTEN), log)
await runEnclave({
  mode: 'sim',
  nsm,
  sealer,
  configVersion: env.BURSAR_CONFIG_VERSION,
  admission,
  ...(env.BURSAR_SIM_CLOCK_FILE ? { now: createSimClock(env.BURSAR_SIM_CLOCK_FILE) } : {}),
  snapshotEvery: env.BURSAR_SNAPSHOT_EVERY,
  stallTimeoutMs: env.BURSAR_FRAME_STALL_MS,
  turnFrames: env.BURSAR_ENCLAVE_TURN_FRAMES,
  maxConnections: env.BURSAR_ENCLAVE_MAX_CONNECTIONS,
  pendingFrameBytes: env.BURSAR_ENCLAVE_PENDING_FRAME_BYTES,
  agentStartFloorMs: env.BURSAR_SIM_AGENT_START_FLOOR_MS,
  listen: parseListen(env.BURSAR_ENCLAVE_LISTEN),
  log,
})
