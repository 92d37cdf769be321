/**
 * UNTRUSTED host: tells an owner that an agent waits for approval. When the enclave answers an agent with
 * `approval_pending`, the wallet's webhook (set by its owner with a signed SetWebhook, else BURSAR_WEBHOOKS: {"0xwallet": "https://…", "*": …}) gets one JSON POST per
 * pending request, Slack-compatible (`text`), with a link to approve in the console. Retried with exponential
 * backoff until a 2xx, the attempt limit or the request's expiry. It carries no secret (no token, no signature):
 * the receiver learns only what the owner's console shows, and approving still needs the owner's wallet.
 */
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import type { WebhookSettings } from './WebhookSettings.js'
import { type ResolveTargetOptions, type ResolvedAddress, postJson, resolveTarget } from './webhookTarget.js'
import { type WebhookSetting, webhookSettingSigner } from '../../shared/owner/webhookSetting.js'

export type PendingWebhooksParameters = {
  gateway: EnclaveGateway
  /** Operator configuration (BURSAR_WEBHOOKS): wallet address (any case) → webhook URL; '*' for every other wallet. */
  urls: Readonly<Record<string, string>>
  /** The owners' own signed settings (PUT /v1/owner/webhooks): they win over the operator's. */
  settings?: WebhookSettings | undefined
  /** Base URL of the console in links (BURSAR_PUBLIC_URL). */
  publicUrl: string
  maxAttempts?: number | undefined
  /** First retry delay; doubles each time, capped at 60 s. */
  backoffMs?: number | undefined
  timeoutMs?: number | undefined
  /** Refuse owner-set URLs that resolve to internal addresses at delivery (off only in simulation on loopback). */
  checkOwnerTargets?: boolean | undefined
  /** TEST HOOK: the DNS resolver and address test of the delivery-time check (webhookTarget.resolveTarget). */
  resolveOptions?: ResolveTargetOptions | undefined
  /** Deliveries in flight at once (default 64); more pending requests meanwhile are logged, not sent. */
  maxInFlight?: number | undefined
  log?: ((line: string) => void) | undefined
}

export type PendingWebhookBody = {
  text: string
  event: 'approval_pending'
  wallet: string
  agentId: string
  pendingId: string
  describe: string
  /** Advisory resource host the agent reported, if any. */
  resourceHost: string | null
  expiresAt: string
  approveUrl: string
}

const SEEN_MAX = 10_000
/** Deliveries (with their retries) in flight at once: an agent opening pending requests in a loop cannot make the host a request cannon. */
const IN_FLIGHT_MAX = 64

export class PendingWebhooks {
  private readonly urls: Map<string, string>
  private readonly seen = new Set<string>()
  /** Deliveries in flight (tests wait for them). */
  readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly p: PendingWebhooksParameters) {
    this.urls = new Map(Object.entries(p.urls).map(([w, u]) => [w.toLowerCase(), u]))
  }

  /** Called with the (untrusted) wallet the agent named and the pendingId the enclave answered; never throws. */
  onPending(wallet: string, pendingId: string): void {
    const own = this.p.settings?.get(wallet)
    const url = own ? own.url : (this.urls.get(wallet.toLowerCase()) ?? this.urls.get('*'))
    if (!url || this.seen.has(pendingId)) return
    if (this.inFlight.size >= (this.p.maxInFlight ?? IN_FLIGHT_MAX)) {
      this.p.log?.(`webhook ${pendingId}: not sent, ${this.inFlight.size} deliveries already in flight`)
      return
    }
    // Once per pending request: asking again returns the same id, and must not page the owner again.
    if (this.seen.size >= SEEN_MAX) this.seen.delete(this.seen.values().next().value as string)
    this.seen.add(pendingId)
    const job = this.deliver(url, wallet, pendingId, own ?? null).catch((err: Error) => this.p.log?.(`webhook ${pendingId}: ${err.message}`))
    this.inFlight.add(job)
    void job.finally(() => this.inFlight.delete(job))
  }

  private async deliver(url: string, wallet: string, pendingId: string, own: WebhookSetting | null): Promise<void> {
    // SECURITY: an owner-chosen name may resolve inward after it was accepted (DNS rebinding, an internal CNAME):
    // resolved once here, checked, and every attempt connects to that checked address (no second lookup).
    let pinned: ResolvedAddress | undefined
    if (own && this.p.checkOwnerTargets === true) {
      const target = await resolveTarget(url, this.p.resolveOptions)
      if (!target.ok) {
        this.p.log?.(`webhook for ${pendingId} not sent: ${target.reason}`)
        return
      }
      pinned = target.pinned
    }
    const found = await this.bodyFor(wallet, pendingId)
    if (!found) return
    const { body, owners } = found
    // SECURITY: an owner-set URL speaks for its signer only while that key still owns the wallet: a key rotated out
    // (SetOwners, e.g. after it was stolen) must not keep hearing about the wallet's pending approvals.
    if (own) {
      const signer = await webhookSettingSigner(own)
      if (!signer || !owners.includes(signer.toLowerCase())) {
        this.p.log?.(`webhook for ${pendingId} not sent: its setting was signed by ${signer ?? 'nobody'}, no longer an owner`)
        return
      }
    }
    const max = this.p.maxAttempts ?? 6
    const expires = Date.parse(body.expiresAt)
    for (let attempt = 1; ; attempt++) {
      const status = await postJson(url, body, { pinned, timeoutMs: this.p.timeoutMs ?? 5_000, headers: { 'user-agent': 'bursar-webhook/1' } })
      if (status >= 200 && status < 300) return
      const delay = Math.min((this.p.backoffMs ?? 1_000) * 2 ** (attempt - 1), 60_000)
      if (attempt >= max || Date.now() + delay >= expires) {
        this.p.log?.(`webhook for ${pendingId} gave up after ${attempt} attempts (last status ${status || 'no answer'})`)
        return
      }
      await new Promise((r) => setTimeout(r, delay))
    }
  }

  /** The body from the enclave's own wallet view (not from the agent's words); null if it is not open there. */
  private async bodyFor(wallet: string, pendingId: string): Promise<{ body: PendingWebhookBody; owners: string[] } | null> {
    const res = await this.p.gateway.call({ type: 'getWallets' })
    if (!res.ok) return null
    const w = res.result.wallets.find((x) => x.address.toLowerCase() === wallet.toLowerCase())
    const p = w?.pending.find((x) => x.pendingId === pendingId)
    if (!w || !p) return null
    const summary = (p.summary ?? {}) as { describe?: unknown; host?: unknown }
    const describe = typeof summary.describe === 'string' ? summary.describe : 'an out-of-policy request'
    const agentId = String(p.agentId ?? '')
    const resourceHost = typeof summary.host === 'string' ? summary.host : null
    const approveUrl = `${this.p.publicUrl.replace(/\/+$/, '')}/#/approve/${w.address}/${encodeURIComponent(pendingId)}`
    const expiresAt = new Date(Number(p.expiresAt ?? Date.now() + 900_000)).toISOString()
    // The owner set is governance.owners (SetOwners replaces it; `owner` stays the creating key).
    const owners = w.governance.owners.map((o) => o.toLowerCase())
    const body: PendingWebhookBody = {
      text: `bursar: agent ${slack(agentId)} asks for approval: ${slack(describe)}${resourceHost ? ` (for ${slack(resourceHost)})` : ''}. Expires ${expiresAt}. <${approveUrl}|Review and approve or reject>`,
      event: 'approval_pending',
      wallet: w.address,
      agentId,
      pendingId,
      describe,
      resourceHost,
      expiresAt,
      approveUrl,
    }
    return { body, owners }
  }
}

/** Slack mrkdwn escaping: agent-chosen text cannot become a link, a mention or @channel. */
function slack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
