/**
 * NITRO entrypoint: the real NSM (/dev/nsm) and KMS sealing bound to
 * attestation. The host reaches us through a vsock bridge (socat
 * VSOCK-LISTEN → this Unix socket, started by deploy/nitro/entrypoint.sh);
 * KMS is reached through a local port forwarded to the host's vsock-proxy.
 * SECURITY: this file must never import the simulated NSM or sealer
 * (scripts/checkBoundaries.ts enforces it).
 */
import { z } from 'zod'
import { isMainThread } from 'node:worker_threads'
import { EnclaveEnvSchema, parseListen } from './config.js'
import { createNitroNsm } from './nsm/nitroNsm.js'
import { runEnclave } from './runEnclave.js'
import { runSignWorker } from './sign/signWorker.js'
import { createKmsSealer } from './seal/kmsSealer.js'

if (!isMainThread) {
  // A signing thread of this same bundle (see sign/SignerPool.ts).
  runSignWorker()
} else {
  const env = EnclaveEnvSchema.extend({
    BURSAR_KMS_KEY_ID: z.string().min(1),
    BURSAR_KMS_ENDPOINT: z.string().url().optional(),
    BURSAR_KMS_REGION: z.string().default('us-east-1'),
    BURSAR_NSM_ADDON: z.string().default('/app/native/nsm_ioctl.node'),
  }).parse(process.env)
  const log = (line: string) => process.stderr.write(`[enclave] ${line}\n`)
  const nsm = createNitroNsm({ addonPath: env.BURSAR_NSM_ADDON })
  await runEnclave({
    mode: 'nitro',
    nsm,
    sealer: createKmsSealer({ keyId: env.BURSAR_KMS_KEY_ID, nsm, endpoint: env.BURSAR_KMS_ENDPOINT, region: env.BURSAR_KMS_REGION }),
    configVersion: env.BURSAR_CONFIG_VERSION,
    snapshotEvery: env.BURSAR_SNAPSHOT_EVERY,
    stallTimeoutMs: env.BURSAR_FRAME_STALL_MS,
    signWorkers: env.BURSAR_SIGN_WORKERS,
    listen: parseListen(env.BURSAR_ENCLAVE_LISTEN),
    log,
  })
}
