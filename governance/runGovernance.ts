import type { Sealer } from '../enclave/seal/Sealer.js'
import { type ListenAddress, serveFrames } from '../enclave/transport/serveFrames.js'
import { BaseError } from '../shared/errors/base.js'
import { GOVERNANCE_ENGINE, GOVERNANCE_PROTOCOL_VERSION, type GovernanceRequest, GovernanceRequestSchema } from '../shared/governance/governanceProtocol.js'
import { linkHash } from '../shared/governance/linkMac.js'
import { governLink } from './governLink.js'

/** Link keys this process unsealed, by the sealed blob's hash (a signer's key is sealed once per process: few). */
const MAX_KEYS = 64

/**
 * Issue 12 stage B: governance's own process. Stateless: each `decide` brings the signer's MACed view and the link key
 * sealed for governance (purpose `governance-link`, unsealed here with this process's own sealer: the host never
 * sees it in clear) and answers the MACed decision (governLink). The host relays the bytes; it decides nothing.
 */
export async function runGovernance(params: { sealer: Sealer; listen: ListenAddress; log: (line: string) => void; stallTimeoutMs?: number; maxConnections?: number | undefined; pendingFrameBytes?: number | undefined }) {
  const keys = new Map<string, Promise<Uint8Array>>()
  const linkKey = (blob: Uint8Array) => {
    const id = linkHash(blob)
    let k = keys.get(id)
    if (!k) {
      k = params.sealer.unseal({ blob, purpose: 'governance-link', walletId: '' }).then((u) => u.plaintext)
      k.catch(() => keys.delete(id))
      keys.set(id, k)
      if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value!)
    }
    return k
  }
  const handle = async (req: GovernanceRequest): Promise<Record<string, unknown>> => {
    if (req.type === 'hello') return { engine: GOVERNANCE_ENGINE, protocolVersion: GOVERNANCE_PROTOCOL_VERSION }
    return { decision: await governLink(await linkKey(req.link), req.view) }
  }
  const server = await serveFrames({
    listen: params.listen,
    log: params.log,
    ...(params.stallTimeoutMs ? { stallTimeoutMs: params.stallTimeoutMs } : {}),
    ...(params.maxConnections ? { maxConnections: params.maxConnections } : {}),
    ...(params.pendingFrameBytes ? { pendingFrameBytes: params.pendingFrameBytes } : {}),
    handle: async (msg) => {
      const parsed = GovernanceRequestSchema.safeParse(msg)
      if (!parsed.success) return { ok: false, error: { code: 'message_invalid', message: `Invalid governance request: ${parsed.error.issues[0]?.path.join('.')}`.slice(0, 200) } }
      try {
        return { ok: true, result: await handle(parsed.data) }
      } catch (err) {
        if (err instanceof BaseError) return { ok: false, error: { code: err.code, message: err.shortMessage } }
        params.log(`internal error: ${(err as Error)?.stack ?? String(err)}`)
        return { ok: false, error: { code: 'internal_error', message: 'Internal error' } }
      }
    },
  })
  const where = params.listen.kind === 'unix' ? params.listen.path : `${params.listen.host}:${params.listen.port}`
  params.log(`governance listening on ${where} (${GOVERNANCE_ENGINE}, protocol ${GOVERNANCE_PROTOCOL_VERSION})`)
  const shutdown = () => {
    server.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  return server
}
