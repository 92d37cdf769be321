/**
 * NITRO entrypoint of governance (issue 12 stage B): a second process in the enclave image (deploy/nitro/entrypoint.sh
 * bridges its vsock port to this Unix socket), with its own esbuild closure (scripts/checkBoundaries.ts). It unseals
 * the signer's link key through KMS (purpose `governance-link`: the key policy admits the image's PCRs) and decides
 * owner acts; it keeps no state. SECURITY: never imports the simulated NSM or sealer.
 */
import * as z from 'zod'
import { GovernanceFrameEnv, parseListen } from '../enclave/config.js'
import { createNitroNsm } from '../enclave/nsm/nitroNsm.js'
import { createKmsSealer } from '../enclave/seal/kmsSealer.js'
import { runGovernance } from './runGovernance.js'

const parsed = z.object({
  BURSAR_GOVERNANCE_LISTEN: z.string().default('unix:/run/bursar/governance.sock'),
  BURSAR_KMS_KEY_ID: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-fA-F-]{32,36}$/, 'must be a full KMS key ARN'),
  BURSAR_KMS_ENDPOINT: z.string().url().optional(),
  BURSAR_KMS_REGION: z.string().default('us-east-1'),
  BURSAR_NSM_ADDON: z.string().default('/app/native/nsm_ioctl.node'),
  ...GovernanceFrameEnv,
}).safeParse(process.env)
for (const i of parsed.error?.issues ?? []) process.stderr.write(`[governance] refusing to start: ${i.path.join('.')} ${i.message}\n`)
if (!parsed.success) process.exit(2)
const env = parsed.data
const nsm = createNitroNsm({ addonPath: env.BURSAR_NSM_ADDON })
await runGovernance({
  sealer: createKmsSealer({ keyId: env.BURSAR_KMS_KEY_ID, nsm, endpoint: env.BURSAR_KMS_ENDPOINT, region: env.BURSAR_KMS_REGION }),
  listen: parseListen(env.BURSAR_GOVERNANCE_LISTEN),
  maxConnections: env.BURSAR_GOVERNANCE_MAX_CONNECTIONS,
  pendingFrameBytes: env.BURSAR_GOVERNANCE_PENDING_FRAME_BYTES,
  log: (line) => process.stderr.write(`[governance] ${line}\n`),
})
