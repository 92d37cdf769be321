import { Enclave, type EnclaveParameters } from './Enclave.js'
import { SIGN_ENGINE } from './sign/secp256k1Engine.js'
import { dispatch } from './protocol/dispatch.js'
import { type ListenAddress, serveFrames } from './transport/serveFrames.js'

/** Starts the enclave process: state holder + frame server. Shared by main.ts and main.sim.ts. */
export async function runEnclave(params: EnclaveParameters & { listen: ListenAddress; stallTimeoutMs?: number }) {
  const enclave = new Enclave(params)
  const server = await serveFrames({
    listen: params.listen,
    log: params.log,
    ...(params.stallTimeoutMs ? { stallTimeoutMs: params.stallTimeoutMs } : {}),
    handle: async (msg) => {
      const res = await dispatch(enclave, msg)
      return res as unknown as Record<string, unknown>
    },
  })
  const where = params.listen.kind === 'unix' ? params.listen.path : `${params.listen.host}:${params.listen.port}`
  params.log(`enclave listening on ${where} (mode ${params.mode}, secp256k1 ${SIGN_ENGINE}${SIGN_ENGINE === 'noble' ? ' (native binding not loaded: pure JS, same signatures, slower)' : ''})`)
  const shutdown = () => {
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  return { enclave, server }
}
