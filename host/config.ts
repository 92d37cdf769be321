import { z } from 'zod'

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
  /** Browser origins allowed to call the API (an owner console run from a local copy): comma-separated, or '*'. */
  BURSAR_CORS_ORIGINS: z.string().default(''),
  /** Pending-approval webhooks: JSON {"0xwallet": "https://…", "*": "https://… (every other wallet)"}; Slack incoming webhooks work as they are. */
  BURSAR_WEBHOOKS: z
    .string()
    .default('{}')
    .transform((s, ctx) => {
      try {
        const v = z.record(z.string().regex(/^(0x[0-9a-fA-F]{40}|\*)$/), z.url({ protocol: /^https?$/ })).parse(JSON.parse(s))
        return v
      } catch {
        ctx.addIssue({ code: 'custom', message: 'BURSAR_WEBHOOKS must be JSON {"0xwallet" or "*": "https://…"}' })
        return z.NEVER
      }
    }),
  /** Base URL of the console in webhook links (default http://BIND:PORT). */
  BURSAR_PUBLIC_URL: z.string().optional(),
  /** Owner-set webhook URLs must be https unless this is 1 (simulation, tests on loopback). */
  BURSAR_WEBHOOK_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
  BURSAR_WEBHOOK_BACKOFF_MS: z.coerce.number().int().positive().default(1_000),
  BURSAR_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
})
export type HostEnv = z.infer<typeof HostEnvSchema>
