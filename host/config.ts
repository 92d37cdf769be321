import { z } from 'zod'
import { LOG_LEVELS } from './logging.js'

/** The host's configuration: environment variables, parsed once. */
export const HostEnvSchema = z.object({
  BURSAR_PORT: z.coerce.number().int().min(0).max(65535).default(8402),
  BURSAR_BIND: z.string().default('127.0.0.1'),
  /** unix:/path (default) or tcp:127.0.0.1:PORT — where the enclave (or its vsock bridge) listens. */
  BURSAR_ENCLAVE: z.string().default('unix:./data/enclave.sock'),
  BURSAR_DATA_DIR: z.string().default('./data'),
  BURSAR_STORAGE: z.enum(['sqlite']).default('sqlite'),
  /** Operator/auditor bearer token for the whole audit log (and its export). */
  BURSAR_AUDIT_TOKEN: z.string().min(16, 'BURSAR_AUDIT_TOKEN must be at least 16 characters').optional(),
  /** owner: audit reads need an owner read token or BURSAR_AUDIT_TOKEN; open: anyone reads (simulation convenience). */
  BURSAR_AUDIT_AUTH: z.enum(['owner', 'open']).default('owner'),
  BURSAR_ENCLAVE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** pino level of the host's JSON logs on stderr (one line per request at info). */
  BURSAR_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** When set, GET /metrics needs `Authorization: Bearer <it>`; unset, /metrics is open like /readyz. */
  BURSAR_METRICS_TOKEN: z.string().min(16, 'BURSAR_METRICS_TOKEN must be at least 16 characters').optional(),
})
export type HostEnv = z.infer<typeof HostEnvSchema>
