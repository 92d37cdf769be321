import { z } from 'zod'
import { LOG_LEVELS } from './logging.js'

/** The host's configuration: environment variables, parsed once. */
export const HostEnvSchema = z.object({
  BURSAR_PORT: z.coerce.number().int().min(0).max(65535).default(8402),
  BURSAR_BIND: z.string().default('127.0.0.1'),
  /** unix:/path (default) or tcp:127.0.0.1:PORT — where the enclave (or its vsock bridge) listens. */
  BURSAR_ENCLAVE: z.string().default('unix:./data/enclave.sock'),
  /** Issue 12 stage B: where governance's process listens (default: BURSAR_ENCLAVE's socket + .gov, or its TCP port + 1). */
  BURSAR_GOVERNANCE: z.string().optional(),
  BURSAR_DATA_DIR: z.string().default('./data'),
  BURSAR_STORAGE: z.enum(['sqlite']).default('sqlite'),
  /** postgres://… selects PostgresStore (scale-out mode, docs/scale.md); unset: SQLite under BURSAR_DATA_DIR. */
  BURSAR_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'BURSAR_DATABASE_URL must be a postgres:// URL')
    .optional(),
  /**
   * Scale-out mode: the wallet group this host serves under a lease (one group = one enclave's wallet set today).
   * Groups other than `default` keep their tables in their own schema (`g_<group>`), so several share one database.
   */
  BURSAR_CLUSTER_GROUP: z.string().regex(/^[a-z0-9_]{1,48}$/, 'BURSAR_CLUSTER_GROUP: 1–48 of a-z, 0-9, _').default('default'),
  /**
   * Scale-out lease mode: `group` (default: one lease for the whole wallet group, one pair signs at a time) or
   * `wallet` (issue 15 step 4: a lease per wallet, wallets placed over the live pairs, each pair's enclave on its
   * own audit chain; docs/scale.md "Per-wallet leases").
   */
  BURSAR_CLUSTER_LEASES: z.enum(['group', 'wallet']).default('group'),
  /** This host's name in the lease table (default: hostname:port). */
  BURSAR_CLUSTER_NODE: z.string().min(1).max(128).optional(),
  /** This host's public URL: other hosts forward to it while it holds the lease, and webhook approve links point at it (default: http://BURSAR_BIND:port). */
  BURSAR_PUBLIC_URL: z.string().url().optional(),
  /**
   * Further origins this host is reached at, comma-separated (a load balancer, the other hosts of a cluster, which
   * forward here): owner read tokens must name one of this host's origins (BURSAR_PUBLIC_URL, or http://BIND:port
   * and its loopback names) or one of these.
   */
  BURSAR_READ_ORIGINS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => new URL(x).origin)
      } catch {
        ctx.addIssue({ code: 'custom', message: 'BURSAR_READ_ORIGINS must be comma-separated URLs (https://bursar.example,…)' })
        return z.NEVER
      }
    }),
  /** Lease time-to-live; renewed every fifth of it. A dead holder is replaced after at most this long. */
  BURSAR_LEASE_TTL_MS: z.coerce.number().int().min(200).max(600_000).default(3_000),
  /** TEST HOOK: the host ignores its own lease clock and refused renewals, leaving only the database's fencing (test/adversarial/staleLeaseHolder). */
  BURSAR_TEST_ONLY_DB_FENCING: z.enum(['1']).optional(),
  /** Operator/auditor bearer token for the whole audit log (and its export). */
  BURSAR_AUDIT_TOKEN: z.string().min(16, 'BURSAR_AUDIT_TOKEN must be at least 16 characters').optional(),
  /** owner: audit reads need an owner read token or BURSAR_AUDIT_TOKEN; open: anyone reads (simulation convenience). */
  BURSAR_AUDIT_AUTH: z.enum(['owner', 'open']).default('owner'),
  /** audit39: stored entries one /v1/audit/entries query reads at most (its filters choose among them; the client follows `next`). */
  BURSAR_AUDIT_SCAN_ROWS: z.coerce.number().int().min(1_000).max(1_000_000).default(5_000),
  BURSAR_ENCLAVE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * Issue 15 step 4, the audit chain this pair writes: '' (default) the root chain; 'own' a chain of its own, started
   * from the root core with no wallets (they arrive by loadWallet); a 32-hex chain id: resume that chain (docs/scale.md).
   */
  BURSAR_CHAIN: z.string().regex(/^(?:own|[0-9a-f]{32})?$/, "BURSAR_CHAIN: '', 'own' or a 32-hex chain id").default(''),
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
  /** Owner-set webhook URLs must be https unless this is 1 (simulation, tests on loopback). */
  BURSAR_WEBHOOK_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
  BURSAR_WEBHOOK_BACKOFF_MS: z.coerce.number().int().positive().default(1_000),
  BURSAR_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  /** pino level of the host's JSON logs on stderr (one line per request at info). */
  BURSAR_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** When set, GET /metrics needs `Authorization: Bearer <it>`; unset, /metrics answers this machine only (loopback, no proxy headers). */
  BURSAR_METRICS_TOKEN: z.string().min(16, 'BURSAR_METRICS_TOKEN must be at least 16 characters').optional(),
})
export type HostEnv = z.infer<typeof HostEnvSchema>
