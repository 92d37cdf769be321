/**
 * UNTRUSTED: per-wallet leases (issue 15 step 4). A request naming a wallet this host does not hold is forwarded
 * (raw bytes, as the group mode's standby forward) to the holder's URL; when nobody holds it now (a takeover under
 * way) it is answered `503 lease_not_held`, which every SDK resends. The wallet comes from the path
 * (`/v1/wallets/:address`, `/v1/owner/webhooks/:address`) or from the signed text of the body (agent requests:
 * `request`; owner acts: `message`; a webhook setting: `wallet`): read here, before parsing, and handed on
 * unchanged. The holder's enclave checks everything again: a wrong wallet here only sends the request to a host
 * whose enclave refuses it. Requests naming no wallet (CreateWallet, wallet lists, audit, attestation) and wallets
 * the cluster has never seen are answered here.
 */
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyRequest, preParsingHookHandler } from 'fastify'
import { ERROR_CODES } from '../../shared/errors/errorCodes.js'
import { FORWARDED, LOCAL, proxyTo } from './forward.js'
import type { WalletLeaseKeeper } from './WalletLeaseKeeper.js'

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const BY_PATH = [/^\/v1\/wallets\/(0x[0-9a-fA-F]{40})$/, /^\/v1\/owner\/webhooks\/(0x[0-9a-fA-F]{40})$/]
/** Routes whose body names the wallet (the operator's per-pair routes stay local). */
const BY_BODY = new Set(['/v1/agent/sign', '/v1/agent/status', '/v1/agent/session', '/v1/agent/payments', '/v1/owner/acts', '/v1/owner/webhooks'])
const MAX_BODY = 1024 * 1024

/** The wallet a request names (lower-cased), or null. */
export function walletOfRequest(path: string, body: Buffer | null): string | null {
  for (const re of BY_PATH) {
    const m = re.exec(path)
    if (m) return m[1]!.toLowerCase()
  }
  if (!body || !BY_BODY.has(path)) return null
  try {
    const outer = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    const pick = (v: unknown) => (typeof v === 'string' && ADDRESS.test(v) ? v.toLowerCase() : null)
    if (pick(outer.wallet)) return pick(outer.wallet)
    for (const k of ['request', 'message']) {
      const text = outer[k]
      if (typeof text !== 'string' || !text.startsWith('{')) continue
      const w = pick((JSON.parse(text) as Record<string, unknown>).wallet)
      if (w) return w
    }
  } catch {} // not JSON: the route refuses it here
  return null
}

export function walletForwardHook(keeper: WalletLeaseKeeper, node: string): preParsingHookHandler {
  return (req, reply, payload, done) => {
    const path = req.url.split('?')[0]!
    if (LOCAL.has(path)) return done(null, payload)
    const route = (body: Buffer | null) => {
      const wallet = walletOfRequest(path, body)
      const go = () => done(null, body ? new PassThrough().end(body) : payload)
      if (!wallet) return go()
      if (keeper.route(wallet).local) return go()
      const refuse = (why: string) =>
        void reply.code(503).header('retry-after', '1').send({ code: 'lease_not_held', message: why, hint: ERROR_CODES.lease_not_held.hint })
      if (keeper.role === 'lost') return refuse('This host lost a wallet lease and is stopping')
      const send = () => {
        const r = keeper.route(wallet)
        if (r.local) return go()
        if (req.headers[FORWARDED] || !r.url) return refuse(`No host holds the lease of wallet ${wallet} right now (a takeover is under way)`)
        proxyTo(r.url, req, reply, node, body)
      }
      if (keeper.leases.has(wallet)) return send()
      // Not in the last view: read its row now. A wallet the cluster never leased: this host's enclave answers
      // (wallet_not_found); never decided on a guess while another host may hold it.
      keeper.lookup(wallet).then(
        (l) => (l ? send() : go()),
        () => refuse('The wallet lease table could not be read'),
      )
    }
    const length = Number(req.headers['content-length'] ?? 0)
    if (!BY_BODY.has(path) || req.method === 'GET' || length > MAX_BODY) return route(null)
    const chunks: Buffer[] = []
    let size = 0
    payload.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY) chunks.push(c)
    })
    payload.on('error', (err) => done(err))
    payload.on('end', () => (size > MAX_BODY ? done(null, new PassThrough().end(Buffer.concat(chunks))) : route(Buffer.concat(chunks))))
  }
}

/**
 * `GET /v1/cluster` in per-wallet mode: this host, its role and how many wallets it serves; with the operator token
 * (`Bearer <BURSAR_AUDIT_TOKEN>`) also the wallets it serves, the live hosts and every wallet's holder. rt32a
 * (strangerListsClusterWallets): the lists named every wallet of the cluster and the hosts' internal URLs to anyone.
 */
export function walletClusterRoutes(keeper: WalletLeaseKeeper, isOperator: (req: FastifyRequest) => Promise<boolean>) {
  return async (app: FastifyInstance) => {
    app.get('/v1/cluster', { schema: { tags: ['health'], summary: 'Scale-out mode: this host and its role; with the operator token the wallets it serves and every wallet lease holder' } }, async (req) => {
      const held = [...keeper.held.entries()].filter(([, h]) => h.ready)
      const base = { mode: 'wallet', node: keeper.opts.node, role: keeper.role, served: held.length }
      if (!(await isOperator(req))) return base
      return {
        ...base,
        held: held.map(([wallet, h]) => ({ wallet, epoch: h.epoch })),
        hosts: keeper.hosts.map((h) => ({ node: h.node, url: h.url })),
        leases: [...keeper.leases.values()].map((l) => ({ wallet: l.wallet, holder: l.holder, url: l.url, epoch: l.epoch, live: l.expiresInMs > 0 })),
      }
    })
  }
}
