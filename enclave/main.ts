/**
 * NITRO entrypoint: the real NSM (/dev/nsm) and KMS sealing bound to
 * attestation. The host reaches us through a vsock bridge (socat
 * VSOCK-LISTEN → this Unix socket, started by deploy/nitro/entrypoint.sh);
 * KMS is reached through a local port forwarded to the host's vsock-proxy.
 * SECURITY: this file must never import the simulated NSM or sealer
 * (scripts/checkBoundaries.ts enforces it).
 */
import * as z from 'zod'
import { EnclaveEnvSchema, parseListen } from './config.js'
import { createNitroNsm } from './nsm/nitroNsm.js'
import { runEnclave } from './runEnclave.js'
import { createKmsSealer } from './seal/kmsSealer.js'
import { parseAdmission } from '../shared/owner/parseAdmission.js'

const parsed = EnclaveEnvSchema.extend({
  // SECURITY: a full key ARN (an alias could be re-pointed by the host's KMS credentials); an owner allowlist (never open).
  BURSAR_KMS_KEY_ID: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-fA-F-]{32,36}$/, 'must be a full KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias'),
  BURSAR_OWNER_ALLOWLIST: z.string().regex(/^0x[0-9a-fA-F]{40}(,0x[0-9a-fA-F]{40})*$/, 'must list the owner addresses allowed to create wallets (0x…,0x…)'),
  BURSAR_KMS_ENDPOINT: z.string().url().optional(),
  BURSAR_KMS_REGION: z.string().default('us-east-1'),
  BURSAR_NSM_ADDON: z.string().default('/app/native/nsm_ioctl.node'),
}).safeParse(process.env)
for (const i of parsed.error?.issues ?? []) process.stderr.write(`[enclave] refusing to start: ${i.path.join('.')} ${i.message}\n`)
if (!parsed.success) process.exit(2)
const env = parsed.data
const log = (line: string) => process.stderr.write(`[enclave] ${line}\n`)
const nsm = createNitroNsm({ addonPath: env.BURSAR_NSM_ADDON })
await runEnclave({
  mode: 'nitro',
  nsm,
  sealer: createKmsSealer({ keyId: env.BURSAR_KMS_KEY_ID, nsm, endpoint: env.BURSAR_KMS_ENDPOINT, region: env.BURSAR_KMS_REGION }),
  configVersion: env.BURSAR_CONFIG_VERSION,
  admission: parseAdmission(env.BURSAR_OWNER_ALLOWLIST),
  snapshotEvery: env.BURSAR_SNAPSHOT_EVERY,
  stallTimeoutMs: env.BURSAR_FRAME_STALL_MS,
  turnFrames: env.BURSAR_ENCLAVE_TURN_FRAMES,
  maxConnections: env.BURSAR_ENCLAVE_MAX_CONNECTIONS,
  pendingFrameBytes: env.BURSAR_ENCLAVE_PENDING_FRAME_BYTES,
  listen: parseListen(env.BURSAR_ENCLAVE_LISTEN),
  log,
})
