import { z } from 'zod'

/** The host's configuration: environment variables, parsed once. */
export const HostEnvSchema = z.object({
  BURSAR_PORT: z.coerce.number().int().min(0).max(65535).default(8402),
  BURSAR_BIND: z.string().default('127.0.0.1'),
  /** unix:/path (default) or tcp:127.0.0.1:PORT — where the enclave (or its vsock bridge) listens. */
  BURSAR_ENCLAVE: z.string().default('unix:./data/enclave.sock'),
  BURSAR_DATA_DIR: z.string().default('./data'),
  BURSAR_STORAGE: z.enum(['sqlite']).default('sqlite'),
  /** postgres://… selects PostgresStore (scale-out mode, docs/scale.md); unset: SQLite under BURSAR_DATA_DIR. */
  BURSAR_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'BURSAR_DATABASE_URL must be a postgres:// URL')
    .optional(),
  /** Operator/auditor bearer token for the whole audit log (and its export). */
  BURSAR_AUDIT_TOKEN: z.string().min(16, 'BURSAR_AUDIT_TOKEN must be at least 16 characters').optional(),
  /** owner: audit reads need an owner read token or BURSAR_AUDIT_TOKEN; open: anyone reads (simulation convenience). */
  BURSAR_AUDIT_AUTH: z.enum(['owner', 'open']).default('owner'),
  BURSAR_ENCLAVE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
})
export type HostEnv = z.infer<typeof HostEnvSchema>
