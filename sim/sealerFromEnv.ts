import path from 'node:path'
import type { NsmProvider } from '../enclave/nsm/NsmProvider.js'
import type { KmsSealer } from '../enclave/seal/kmsSealer.js'
import { createSimSealer } from './simSealer.js'

export type SimSealerEnv = { BURSAR_DATA_DIR: string; BURSAR_MODE: 'sim' | 'nitro'; BURSAR_SEALER?: 'sim' | 'kms' | undefined; BURSAR_KMS_KEY_ID: string; BURSAR_KMS_ENDPOINT?: string | undefined }

/**
 * The simulation's sealer, for the enclave and governance alike (issue 12 stage B: governance unseals the link key
 * the signer sealed, so both use the same one): the local file key, or with BURSAR_SEALER=kms the production KMS path.
 * Refuses to start (exit 2, saying why) on a bad KMS setting.
 */
export async function sealerFromEnv(env: SimSealerEnv, nsm: NsmProvider, log: (line: string) => void): Promise<ReturnType<typeof createSimSealer> | KmsSealer> {
  try {
    // The KMS sealer (and the AWS SDK it pulls in, ~1 MB of bundle) is evaluated only when asked for: the same
    // production code path (enclave/seal/kmsSealer.ts) when BURSAR_SEALER=kms, no SDK objects in the heap otherwise.
    return (env.BURSAR_SEALER ?? (env.BURSAR_MODE === 'nitro' ? 'kms' : 'sim')) === 'kms'
      ? (await import('../enclave/seal/kmsSealer.js')).createKmsSealer({
          keyId: env.BURSAR_KMS_KEY_ID,
          nsm,
          endpoint: env.BURSAR_KMS_ENDPOINT,
          region: 'us-east-1',
          credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' },
        })
      : createSimSealer({ keyFile: path.join(env.BURSAR_DATA_DIR, 'sim-sealing.key') })
  } catch (err) {
    // E.g. BURSAR_KMS_KEY_ID is an alias: refuse to start, saying why.
    const e = err as { shortMessage?: string; details?: string; message: string }
    log(`refusing to start: ${e.shortMessage ?? e.message.split('\n')[0]}${e.details ? `: ${e.details}` : ''}`)
    process.exit(2)
  }
}
