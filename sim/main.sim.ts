/**
 * SIMULATION entrypoint: the real enclave code with a mock NSM (simulation
 * PKI) and, by default, a local file sealing key. NOT SECURE: the host
 * machine can read the sealing key. BURSAR_SEALER=kms runs the production KMS
 * sealing path (real @aws-sdk/client-kms) against BURSAR_KMS_ENDPOINT with
 * the simulated NSM. Never used in Nitro mode (see main.ts).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { isMainThread } from 'node:worker_threads'
import { EnclaveEnvSchema, parseListen } from '../enclave/config.js'
import { createMockNsm } from './mockNsm.js'
import { runEnclave } from '../enclave/runEnclave.js'
import { runSignWorker } from '../enclave/sign/signWorker.js'
import { createKmsSealer } from '../enclave/seal/kmsSealer.js'
import { createSimSealer } from './simSealer.js'

if (!isMainThread) {
  // A signing thread of this same bundle (see sign/SignerPool.ts).
  runSignWorker()
} else {
  const env = EnclaveEnvSchema.extend({
    /** nitro here = the production KMS sealing path with the simulated NSM (no /dev/nsm outside an enclave). */
    BURSAR_MODE: z.enum(['sim', 'nitro']).default('sim'),
    BURSAR_SEALER: z.enum(['sim', 'kms']).optional(),
    BURSAR_KMS_KEY_ID: z.string().default('alias/bursar-sim'),
    BURSAR_KMS_ENDPOINT: z.string().url().optional(),
  }).parse(process.env)
  const log = (line: string) => process.stderr.write(`[enclave] ${line}\n`)
  mkdirSync(env.BURSAR_DATA_DIR, { recursive: true })
  log('*** SIMULATION MODE — NOT SECURE: attestation is signed by a simulation CA; sealing key is local unless BURSAR_SEALER=kms ***')
  const nsm = await createMockNsm({
    pkiDir: path.join(env.BURSAR_DATA_DIR, 'sim-pki'),
    measuredFile: process.argv[1] ?? '',
  })
  const sealer =
    (env.BURSAR_SEALER ?? (env.BURSAR_MODE === 'nitro' ? 'kms' : 'sim')) === 'kms'
      ? createKmsSealer({
          keyId: env.BURSAR_KMS_KEY_ID,
          nsm,
          endpoint: env.BURSAR_KMS_ENDPOINT,
          region: 'us-east-1',
          credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' },
        })
      : createSimSealer({ keyFile: path.join(env.BURSAR_DATA_DIR, 'sim-sealing.key') })
  log(`sealer: ${sealer.kind}`)
  await runEnclave({
    mode: 'sim',
    nsm,
    sealer,
    configVersion: env.BURSAR_CONFIG_VERSION,
    snapshotEvery: env.BURSAR_SNAPSHOT_EVERY,
    stallTimeoutMs: env.BURSAR_FRAME_STALL_MS,
    signWorkers: env.BURSAR_SIGN_WORKERS,
    listen: parseListen(env.BURSAR_ENCLAVE_LISTEN),
    log,
  })
}
