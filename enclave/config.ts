import * as z from 'zod'
import type { ListenAddress } from './transport/serveFrames.js'

/** 1 MiB to 16 GiB (below 32 MiB the largest frame the protocol allows no longer fits: only for tests and small hosts). */
const pendingFrameBytes = z.coerce.number().int().min(2 ** 20).max(2 ** 34).optional()

/** The enclave's only configuration: environment variables, parsed once. */
export const EnclaveEnvSchema = z.object({
  /** unix:/path/to.sock (default), tcp:127.0.0.1:PORT (loopback only). */
  BURSAR_ENCLAVE_LISTEN: z.string().default('unix:./data/enclave.sock'),
  BURSAR_CONFIG_VERSION: z.string().default('1'),
  BURSAR_SNAPSHOT_EVERY: z.coerce.number().int().positive().default(5000),
  /** A partial frame that stalls this long closes its connection (slow-client defence). */
  BURSAR_FRAME_STALL_MS: z.coerce.number().int().positive().default(10_000),
  /** writer40: frames one connection's batch takes before its answers leave (serveFrames' TURN_FRAMES = 32; ≤ 4,096, the old cap on frames in flight). */
  BURSAR_ENCLAVE_TURN_FRAMES: z.coerce.number().int().positive().max(4096).optional(),
  /** conn40b: connections served at once; past it a new one is refused with enclave_connections_full (serveFrames' MAX_CONNECTIONS = 64; ≤ 4,096). */
  BURSAR_ENCLAVE_MAX_CONNECTIONS: z.coerce.number().int().positive().max(4096).optional(),
  /** limits41: bytes of frames received and not yet answered, across connections (serveFrames' PENDING_FRAME_BYTES = 256 MiB). */
  BURSAR_ENCLAVE_PENDING_FRAME_BYTES: pendingFrameBytes,
})

/** limits41: governance's frame server (its own process, the same serveFrames) takes the signer's two bounds under its own names. */
export const GovernanceFrameEnv = {
  BURSAR_GOVERNANCE_MAX_CONNECTIONS: z.coerce.number().int().positive().max(4096).optional(),
  BURSAR_GOVERNANCE_PENDING_FRAME_BYTES: pendingFrameBytes,
}

/** Parses a listen spec; refuses non-loopback TCP (the enclave never listens on a network). */
export function parseListen(spec: string): ListenAddress {
  if (spec.startsWith('unix:')) return { kind: 'unix', path: spec.slice(5) }
  const m = /^tcp:(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/.exec(spec)
  if (m) return { kind: 'tcp', host: m[1] === 'localhost' ? '127.0.0.1' : m[1]!.replace(/[[\]]/g, ''), port: Number(m[2]) }
  console.error(`BURSAR_ENCLAVE_LISTEN must be unix:/path or tcp:127.0.0.1:PORT, got ${spec}`)
  process.exit(2)
}
