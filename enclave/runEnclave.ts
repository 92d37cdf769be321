import { Enclave, type EnclaveParameters } from './Enclave.js'
import { SIGN_ENGINE } from './sign/secp256k1Engine.js'
import { KECCAK_ENGINE } from '../core/decode/keccak256Bytes.js'
import { dispatch } from './protocol/dispatch.js'
import { type ListenAddress, serveFrames } from './transport/serveFrames.js'
import { setFlagsFromString } from 'node:v8'

/** Starts the enclave process: state holder + frame server. Shared by main.ts and main.sim.ts. */
export async function runEnclave(params: EnclaveParameters & { listen: ListenAddress; stallTimeoutMs?: number; turnFrames?: number | undefined; maxConnections?: number | undefined; pendingFrameBytes?: number | undefined }) {
  // Issue 18 (rss18b): the next mark-compact at 1.3x the live heap, not up to ~4x (V8's default when its GC is fast
  // next to the program): RSS under load -7..-17 % at no measured GC cost (docs/bench.md). Set here so the sim and the
  // Nitro image run alike; a --heap-growing-percent on the command line wins (0 = V8's own heuristic).
  if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=30')
  const enclave = new Enclave(params)
  const server = await serveFrames({
    listen: params.listen,
    log: params.log,
    ...(params.stallTimeoutMs ? { stallTimeoutMs: params.stallTimeoutMs } : {}),
    ...(params.turnFrames ? { turnFrames: params.turnFrames } : {}),
    ...(params.maxConnections ? { maxConnections: params.maxConnections } : {}),
    ...(params.pendingFrameBytes ? { pendingFrameBytes: params.pendingFrameBytes } : {}),
    handle: async (msg) => {
      const res = await dispatch(enclave, msg)
      return res as unknown as Record<string, unknown>
    },
  })
  const where = params.listen.kind === 'unix' ? params.listen.path : `${params.listen.host}:${params.listen.port}`
  params.log(`enclave listening on ${where} (mode ${params.mode}, secp256k1 ${SIGN_ENGINE}${SIGN_ENGINE === 'noble' ? ' (native binding not loaded: pure JS, same signatures, slower)' : ''}, keccak ${KECCAK_ENGINE})`)
  const shutdown = () => {
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  return { enclave, server }
}
