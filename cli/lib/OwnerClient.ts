import { wireCode } from '../../shared/errors/errorCodes.js'
import { randomBytes } from 'node:crypto'
import type { LocalAccount } from 'viem'
import { BaseError } from '../../shared/errors/base.js'
import type { OwnerActType } from '../../shared/owner/ownerActTypes.js'
import { approvalDigest } from '../../shared/owner/approvalSummary.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'

export class HostRequestError extends BaseError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(wireCode(code), message)
  }
}

/**
 * Owner-side client: signs acts with the owner's key and posts them to the
 * host. For acts on a wallet it uses seq = max(host's ownerSeq, the highest
 * seq this client has used) + 1, so a host that under-reports cannot get a
 * stale act replayed, and one that over-reports only causes a refusal.
 */
export class OwnerClient {
  private readonly highWater = new Map<string, number>()

  readonly host: string

  constructor(
    host: string,
    readonly account: LocalAccount,
  ) {
    this.host = host.replace(/\/+$/, '')
  }

  async createWallet(label = ''): Promise<{ wallet: `0x${string}`; owner: string; ownerSeq: number }> {
    const message = {
      owner: this.account.address,
      label,
      nonce: `0x${randomBytes(32).toString('hex')}`,
      issuedAt: String(Date.now()),
    }
    return this.post('CreateWallet', message) as Promise<{ wallet: `0x${string}`; owner: string; ownerSeq: number }>
  }

  /** Signs and sends an act on an existing wallet, filling `seq`. */
  async act(primaryType: Exclude<OwnerActType, 'CreateWallet'>, wallet: string, fields: Record<string, unknown>, policy?: string) {
    const info = await this.wallet(wallet)
    const key = wallet.toLowerCase()
    const seq = Math.max(info.ownerSeq, this.highWater.get(key) ?? 0) + 1
    try {
      const result = await this.post(primaryType, { wallet, ...fields, seq: String(seq) }, policy)
      this.highWater.set(key, Math.max(seq, this.highWater.get(key) ?? 0))
      return result
    } catch (err) {
      // A definite refusal (4xx) leaves the enclave's seq where it was: reusing this seq next time is right, and
      // skipping it would look like a rollback (seq > ownerSeq + 1). An unknown outcome (unreachable, 5xx) may
      // have applied the act, so never sign this seq again.
      const definite = err instanceof HostRequestError && err.status >= 400 && err.status < 500
      if (!definite) this.highWater.set(key, Math.max(seq, this.highWater.get(key) ?? 0))
      throw err
    }
  }

  /**
   * Approves or rejects a pending request, signing the digest of the purchase it shows. SECURITY: the summary the
   * host serves is re-hashed here; a host that shows one purchase under another's id is caught before signing.
   */
  async resolvePending(wallet: string, pendingId: string, approve: boolean) {
    const info = await this.wallet(wallet)
    const p = info.pending.find((x) => x.pendingId === pendingId || x.id === pendingId) as
      | { digest?: string; summary?: Record<string, unknown> }
      | undefined
    let digest = `0x${'00'.repeat(32)}`
    if (p?.summary && typeof p.digest === 'string') {
      digest = approvalDigest(p.summary)
      if (digest !== p.digest.toLowerCase()) {
        throw new HostRequestError('pending_summary_mismatch', 'The host shows details that do not match this pending request: not signing', 0, {})
      }
    }
    const result = await this.act('ResolvePending', wallet, { pendingId, digest, approve })
    return { ...result, summary: p?.summary ?? null }
  }

  async post(primaryType: OwnerActType, message: Record<string, unknown>, policy?: string): Promise<Record<string, unknown>> {
    const body = await signOwnerAct({ account: this.account, primaryType, message })
    return this.request('POST', '/v1/owner/acts', { ...body, ...(policy ? { policy } : {}) })
  }

  async wallet(address: string): Promise<WalletInfo> {
    return (await this.request('GET', `/v1/wallets/${address}`)) as unknown as WalletInfo
  }

  async wallets(): Promise<WalletInfo[]> {
    return ((await this.request('GET', '/v1/wallets')) as { wallets: WalletInfo[] }).wallets
  }

  async request(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    let res: Response
    try {
      res = await fetch(`${this.host}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      })
    } catch (cause) {
      throw new HostRequestError('enclave_unavailable', `Cannot reach the bursar host at ${this.host}: is it running (make sim)?`, 0, {})
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
    if (!res.ok) {
      throw new HostRequestError(String(json.code ?? 'http_error'), String(json.message ?? res.statusText), res.status, json)
    }
    return json
  }
}
