/**
 * SIMULATION entrypoint of governance (issue 12 stage B), started by the sim enclave beside itself
 * (sim/startGovernanceBeside.ts): the mock NSM and the simulation's sealer (the same key file as the enclave's, or
 * BURSAR_SEALER=kms), so it unseals the link key the signer sealed. Exits when its stdin closes (the enclave ended).
 */
import path from 'node:path'
import * as z from 'zod'
import { GovernanceFrameEnv, parseListen } from '../enclave/config.js'
import { runGovernance } from '../governance/runGovernance.js'
import { createMockNsm } from './mockNsm.js'
import { sealerFromEnv } from './sealerFromEnv.js'
import { lowerStateLimit } from './lowerStateLimit.js'

const env = z.object({
  BURSAR_DATA_DIR: z.string().default('./data'),
  BURSAR_MODE: z.enum(['sim', 'nitro']).default('sim'),
  BURSAR_SEALER: z.enum(['sim', 'kms']).optional(),
  BURSAR_KMS_KEY_ID: z.string().default('arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000'),
  BURSAR_KMS_ENDPOINT: z.string().url().optional(),
  BURSAR_GOVERNANCE_LISTEN: z.string().default('unix:./data/enclave.sock.gov'),
  BURSAR_FRAME_STALL_MS: z.coerce.number().int().positive().default(10_000),
  BURSAR_SIM_STATE_SOFT_BYTES: z.coerce.number().int().positive().optional(),
  ...GovernanceFrameEnv,
}).parse(process.env)
const log = (line: string) => process.stderr.write(`[governance] ${line}\n`)
lowerStateLimit(env.BURSAR_SIM_STATE_SOFT_BYTES, log)
process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
const nsm = await createMockNsm({ pkiDir: path.join(env.BURSAR_DATA_DIR, 'sim-pki'), measuredFile: process.argv[1] ?? '' })
await runGovernance({ sealer: await sealerFromEnv(env, nsm, log), listen: parseListen(env.BURSAR_GOVERNANCE_LISTEN), log, stallTimeoutMs: env.BURSAR_FRAME_STALL_MS,
  maxConnections: env.BURSAR_GOVERNANCE_MAX_CONNECTIONS, pendingFrameBytes: env.BURSAR_GOVERNANCE_PENDING_FRAME_BYTES })
