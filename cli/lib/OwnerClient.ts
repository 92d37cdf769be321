import { wireCode } from '../../shared/errors/errorCodes.js'
import { randomBytes } from 'node:crypto'
import type { LocalAccount } from 'viem'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { BaseError } from '../../shared/errors/base.js'
import { type OwnerActType, isOwnerActType } from '../../shared/owner/ownerActTypes.js'
import { policyHash } from '../../shared/schemas/policy.js'
import { approvalDigest } from '../../shared/owner/approvalSummary.js'
import { ownerActHash } from '../../shared/owner/ownerActHash.js'
import { isOwnerReceiptSigned } from '../../shared/owner/verifyOwnerReceipt.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type OwnerActResult, OwnerActResultSchema, type WalletInfo } from '../../shared/protocol/messages.js'
import { OwnerMarks } from './OwnerMarks.js'
import { importKeyVouched } from './keyExitFiles.js'
import { sealToX25519 } from '../../shared/owner/keyExitCipher.js'
import { privateKeyToAddress } from 'viem/accounts'

/** The `auditChain` of a /v1/attestation answer (a host older than gov36 sends none: its enclave would refuse the act anyway). */
function chainOf(att: Record<string, unknown>): string {
  const c = String(att.auditChain ?? '')
  if (!/^0x[0-9a-f]{64}$/.test(c)) throw new BaseError('owner_act_wrong_chain', 'The host names no audit chain for its enclave (/v1/attestation → auditChain): it runs a build older than gov36')
  return c
}

export class HostRequestError extends BaseError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown>,
    metaMessages?: string[],
  ) {
    super(wireCode(code), message, { metaMessages })
  }
}

export type OwnerClientOptions = {
  /** High-water marks (default: in memory only; the CLI passes the on-disk file). */
  marks?: OwnerMarks | undefined
  /** Attestation root (PEM): the receipt key is taken from a document verified against it instead of pinned on first use. */
  root?: string | undefined
  allowDebug?: boolean | undefined
  /** Where notices go (e.g. "receipt key pinned on first use"). */
  onNotice?: ((line: string) => void) | undefined
  /**
   * `Authorization` for the wallet reads (GET /v1/wallets…). Default: an owner read token signed with `account`
   * for this host's origin, 10 minutes, re-signed when near expiry. The console passes its session's token (one
   * wallet prompt per hour); `bursar owner wallet list --all` the operator's `Bearer <BURSAR_AUDIT_TOKEN>`.
   */
  readAuthorization?: (() => Promise<string>) | undefined
}

const READ_TOKEN_TTL_MS = 10 * 60_000

/**
 * Owner-side client: signs acts with the owner's key, posts them to the
 * host, and checks the enclave's signed receipt of each. SECURITY: it keeps
 * the owner's high-water marks (seq, state version, audit head) per host and
 * wallet and signs the next act with seq = max(mark, host's ownerSeq) + 1, so
 * an enclave restarted on an older snapshot sees a seq from the future and
 * stops signing for the wallet (state_rollback_detected); an answer without
 * a valid receipt means the host did not forward the act.
 */
export class OwnerClient {
  readonly host: string
  readonly marks: OwnerMarks
  private readToken: { value: string; expiresAt: number } | null = null

  constructor(
    host: string,
    readonly account: LocalAccount,
    private readonly options: OwnerClientOptions = {},
  ) {
    this.host = host.replace(/\/+$/, '')
    this.marks = options.marks ?? new OwnerMarks(null)
  }

  async createWallet(label = ''): Promise<OwnerActResult & { wallet: `0x${string}`; owner: string }> {
    const message = {
      owner: this.account.address,
      label,
      nonce: `0x${randomBytes(32).toString('hex')}`,
      issuedAt: String(Date.now()),
      auditChain: await this.auditChain(),
    }
    const key = await this.receiptKey()
    const result = await this.post('CreateWallet', message)
    this.checkReceipt({ result, key, primaryType: 'CreateWallet', message, wallet: result.wallet, seq: 0 })
    return result as OwnerActResult & { wallet: `0x${string}`; owner: string }
  }

  /**
   * Imports an existing wallet key: sealed to the enclave's X25519 import key, which counts only if the enclave's
   * receipt key (attested with --root, else pinned) signed it. A new address becomes a new wallet; an exported wallet
   * of yours signs again.
   */
  async importWallet(privateKey: `0x${string}`, label = ''): Promise<OwnerActResult & { wallet: `0x${string}`; owner: string }> {
    const key = await this.receiptKey()
    const att = await this.request('GET', '/v1/attestation')
    const importKey = String(att.importKey ?? '')
    if (`0x${String(att.signerPublicKey ?? '').replace(/^0x/, '')}`.toLowerCase() !== key.toLowerCase() || !importKeyVouched(key, importKey, String(att.importKeySignature ?? ''))) {
      throw new BaseError('owner_receipt_key_unverified', `The import key from ${this.host} is not signed by the enclave's receipt key: not sealing your key to it`)
    }
    const address = privateKeyToAddress(privateKey)
    const sealed = sealToX25519(new Uint8Array(Buffer.from(importKey.slice(2), 'hex')), new Uint8Array(Buffer.from(privateKey.slice(2), 'hex')), address)
    const message = { owner: this.account.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: chainOf(att), address, sealedKey: `0x${Buffer.from(sealed).toString('hex')}` }
    const result = await this.post('ImportWallet', message)
    this.checkReceipt({ result, key, primaryType: 'ImportWallet', message, wallet: result.wallet, seq: result.ownerSeq })
    return result as OwnerActResult & { wallet: `0x${string}`; owner: string }
  }

  /** Signs and sends an act on an existing wallet, filling `seq` from the marks and the host. */
  async act(primaryType: Exclude<OwnerActType, 'CreateWallet' | 'ImportWallet'>, wallet: string, fields: Record<string, unknown>, policy?: string): Promise<OwnerActResult> {
    const mark = this.marks.wallet(this.host, wallet)
    // The host shows a wallet only to its owners: a key that is not (or no longer) one still sends its act, at the
    // seq of its own marks, and the enclave decides (owner_not_authorized, or wallet_not_found for no such wallet).
    const info = await this.wallet(wallet).catch((err: unknown) => {
      if (err instanceof HostRequestError && err.code === 'wallet_not_found') return null
      throw err
    })
    const hostSeq = info?.ownerSeq ?? mark?.ownerSeq ?? 0
    // SECURITY: never below our own newest receipt: a rolled-back enclave then sees seq > its ownerSeq + 1.
    const seq = Math.max(hostSeq, mark?.ownerSeq ?? 0) + 1
    return this.send(primaryType, wallet, { wallet, ...fields, seq: String(seq) }, hostSeq, policy)
  }

  /**
   * Co-signs an act another owner proposed (quorum): the exact message the host lists. SECURITY: the host is
   * untrusted, so the message is re-hashed here and must give the listed act hash, and a listed policy text must hash
   * to the message's policyHash, before this key signs anything.
   */
  async cosign(wallet: string, actHash: string): Promise<OwnerActResult & { act: string; message: Record<string, unknown> }> {
    const info = await this.wallet(wallet)
    const p = info.proposals.find((x) => x.actHash.toLowerCase() === actHash.toLowerCase())
    if (!p) throw new HostRequestError('proposal_not_found', `No act ${actHash} waits for signatures on ${wallet}`, 0, {})
    const act = p.act as Exclude<OwnerActType, 'CreateWallet' | 'ImportWallet'>
    const message = JSON.parse(p.message) as Record<string, unknown>
    const bad = !isOwnerActType(act) || ownerActHash(act, message) !== p.actHash.toLowerCase() || String(message.wallet).toLowerCase() !== wallet.toLowerCase()
    if (bad || (p.policy !== null && policyHash(JSON.parse(p.policy)) !== message.policyHash)) {
      throw new HostRequestError('proposal_mismatch', 'The host lists an act whose content does not match its hash: not signing', 0, {})
    }
    return { ...(await this.send(act, wallet, message, info.ownerSeq, p.policy ?? undefined)), act, message }
  }

  private async send(primaryType: Exclude<OwnerActType, 'CreateWallet' | 'ImportWallet'>, wallet: string, message: Record<string, unknown>, hostSeq: number, policy?: string): Promise<OwnerActResult> {
    const key = await this.receiptKey()
    const mark = this.marks.wallet(this.host, wallet)
    const seq = Number(message.seq)
    let result: OwnerActResult
    try {
      result = await this.post(primaryType, message, policy)
    } catch (err) {
      if (err instanceof HostRequestError && (err.code === 'state_rollback_detected' || err.code === 'wallet_rolled_back')) {
        throw this.rollbackError(wallet, hostSeq, mark?.ownerSeq)
      }
      // A definite refusal (4xx) leaves the enclave's seq where it was: reusing this seq next time is right, and
      // skipping it would look like a rollback. An unknown outcome (unreachable, 5xx) may have applied the act,
      // so never sign this seq again.
      const definite = err instanceof HostRequestError && err.status >= 400 && err.status < 500
      if (!definite) this.marks.bumpSeq(this.host, wallet, seq)
      throw err
    }
    try {
      // A signature that only joined a proposal leaves the seq where it was (seq − 1): the act has not applied yet.
      const at = result.proposal ? seq - 1 : seq
      this.checkReceipt({ result, key, primaryType, message, wallet, seq: at, reset: primaryType === 'Resync' && !result.proposal })
    } catch (err) {
      this.marks.bumpSeq(this.host, wallet, seq)
      throw err
    }
    return result
  }

  /** After a detected rollback: accept the enclave's state as it is and continue from our newest seq. */
  resync(wallet: string): Promise<OwnerActResult> {
    return this.act('Resync', wallet, {})
  }

  /**
   * Approves or rejects a pending request, signing the digest of the purchase it shows. SECURITY: the summary the
   * host serves is re-hashed here; a host that shows one purchase under another's id is caught before signing.
   */
  async resolvePending(wallet: string, pendingId: string, approve: boolean, shown?: { digest?: string; summary?: Record<string, unknown> }) {
    // SECURITY: a page passes the very summary it displayed (`shown`), so the signature binds what the owner read,
    // never a second fetch that a host could answer differently.
    const p =
      shown ??
      ((await this.wallet(wallet)).pending.find((x) => x.pendingId === pendingId || x.id === pendingId) as
        | { digest?: string; summary?: Record<string, unknown> }
        | undefined)
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

  async post(primaryType: OwnerActType, message: Record<string, unknown>, policy?: string): Promise<OwnerActResult> {
    const body = await signOwnerAct({ account: this.account, primaryType, message })
    let json: Record<string, unknown>
    for (let attempt = 1; ; attempt++) {
      try {
        json = await this.request('POST', '/v1/owner/acts', { ...body, ...(policy ? { policy } : {}) })
        break
      } catch (err) {
        // scope38: the host's queue for the wallet is full and it relayed nothing: the same signed act again, after retryAfterMs.
        if (!(err instanceof HostRequestError) || err.code !== 'owner_act_queue_full' || attempt >= 4) throw err
        await new Promise((r) => setTimeout(r, Math.min(Number(err.body.retryAfterMs) || 1_000, 10_000)))
      }
    }
    const parsed = OwnerActResultSchema.safeParse(json)
    if (!parsed.success) throw receiptInvalid('the answer carries no enclave receipt')
    return parsed.data
  }

  /**
   * gov36: the audit chain of the enclave behind this host (core id ‖ chain id), which a CreateWallet/ImportWallet
   * names so that no other enclave accepts it. Not verified: a wrong one only makes the act refused
   * (owner_act_wrong_chain) or accepted by the one enclave writing that chain, never by two.
   */
  async auditChain(): Promise<string> {
    return chainOf(await this.request('GET', '/v1/attestation'))
  }

  /**
   * The Ed25519 key that signs this host's enclave receipts: pinned in the marks; with a root, taken from an
   * attestation document verified against it; otherwise pinned on first use (and said so).
   */
  async receiptKey(): Promise<string> {
    const pinned = this.marks.host(this.host)
    if (pinned && (pinned.pinnedBy === 'attestation' || !this.options.root)) return pinned.receiptPublicKey
    const nonce = randomBytes(32)
    const att = await this.request('GET', `/v1/attestation?nonce=${nonce.toString('hex')}`)
    const key = `0x${String(att.signerPublicKey ?? '').replace(/^0x/, '').toLowerCase()}`
    if (this.options.root) {
      try {
        verifyAttestation(new Uint8Array(Buffer.from(String(att.document ?? ''), 'base64')), {
          root: this.options.root,
          maxAgeMs: 300_000,
          allowDebug: this.options.allowDebug === true,
          expectedNonce: new Uint8Array(nonce),
          expectedPublicKey: key,
          expectedUserData: computeAttestationUserData(att.userDataInputs as Parameters<typeof computeAttestationUserData>[0]),
        })
      } catch (cause) {
        throw new BaseError('owner_receipt_key_unverified', `The attestation from ${this.host} does not verify against --root`, {
          cause,
          metaMessages: [`${(cause as Error).message.split('\n')[0]}`, 'Check --root, or the host is not running the enclave you expect.'],
        })
      }
      if (pinned && pinned.receiptPublicKey !== key) {
        throw new BaseError('owner_receipt_key_changed', `The enclave behind ${this.host} has another receipt key than the one pinned on first use`, {
          metaMessages: ['The first contact may have been with an impostor: check your wallets on a host you trust.'],
        })
      }
      this.marks.pin(this.host, key, 'attestation')
    } else {
      this.marks.pin(this.host, key, 'first-use')
      this.options.onNotice?.(
        `warning: pinned the receipt key of ${this.host} on first use (${key.slice(0, 18)}…, trust on first use); pass --root <pem> to verify it by attestation instead`,
      )
    }
    return key
  }

  private checkReceipt(p: {
    result: OwnerActResult
    key: string
    primaryType: OwnerActType
    message: Record<string, unknown>
    wallet: string
    seq: number
    reset?: boolean
  }): void {
    const r = p.result.receipt
    if (!isOwnerReceiptSigned(r, p.key)) throw receiptInvalid('its signature does not verify under the enclave receipt key')
    if (r.act !== p.primaryType || r.actHash.toLowerCase() !== ownerActHash(p.primaryType, p.message)) throw receiptInvalid('it is for another act')
    if (r.wallet.toLowerCase() !== p.wallet.toLowerCase() || r.ownerSeq !== p.seq) throw receiptInvalid('it is for another wallet or seq')
    // fix15: state versions and audit seqs compare within one chain (the receipt names it; a wallet that moved to
    // another pair of a per-wallet cluster is on that pair's chain); the owner seq (checked above) follows the wallet.
    const mark = this.marks.wallet(this.host, p.wallet), chain = r.chain ?? ''
    if (!p.reset && mark && mark.stateVersion >= 0 && (mark.chain ?? '') === chain && (r.stateVersion <= mark.stateVersion || r.auditHead.seq <= mark.auditSeq)) {
      throw this.rollbackError(p.wallet, r.ownerSeq, mark.ownerSeq, `state version ${r.stateVersion} / audit seq ${r.auditHead.seq} is not past your mark ${mark.stateVersion} / ${mark.auditSeq}`)
    }
    const seen = this.marks.chain(this.host, chain)
    if (!p.reset && seen && (r.stateVersion < seen.stateVersion || r.auditHead.seq < seen.auditSeq)) {
      throw this.rollbackError(p.wallet, r.ownerSeq, mark?.ownerSeq, `state version ${r.stateVersion} / audit seq ${r.auditHead.seq} is behind chain ${chain || 'root'}'s mark ${seen.stateVersion} / ${seen.auditSeq}`)
    }
    const wallet = p.wallet.toLowerCase()
    this.marks.record(this.host, wallet, { ownerSeq: r.ownerSeq, stateVersion: r.stateVersion, auditSeq: r.auditHead.seq, auditHash: r.auditHead.hash, act: r.act, time: r.time, ...(r.chain && { chain: r.chain }) }, p.reset)
  }

  private rollbackError(wallet: string, hostSeq: number, markSeq: number | undefined, why?: string): HostRequestError {
    return new HostRequestError(
      'state_rollback_detected',
      `The enclave behind ${this.host} was rolled back: wallet ${wallet} is at owner seq ${hostSeq} there, but you hold its receipt for seq ${markSeq ?? '?'}${why ? ` (${why})` : ''}`,
      409,
      {},
      [
        'Acts you made after that state are lost there (e.g. a revoke or freeze); the enclave now signs nothing for this wallet.',
        `Run \`bursar owner wallet resync --wallet ${wallet}\`, then repeat the lost acts.`,
      ],
    )
  }

  /** One of the owner's wallets (the host answers only its owners: owner read token). */
  async wallet(address: string): Promise<WalletInfo> {
    return (await this.request('GET', `/v1/wallets/${address}`, undefined, await this.readAuthorization())) as unknown as WalletInfo
  }

  /** The owner's wallets (every wallet with the operator token as readAuthorization). */
  async wallets(): Promise<WalletInfo[]> {
    return ((await this.request('GET', '/v1/wallets', undefined, await this.readAuthorization())) as { wallets: WalletInfo[] }).wallets
  }

  /** `Authorization` for owner reads on this host: an AuditRead naming this host's origin (or the option's). */
  async readAuthorization(): Promise<string> {
    if (this.options.readAuthorization) return this.options.readAuthorization()
    if (!this.readToken || this.readToken.expiresAt - Date.now() < 60_000) {
      const expiresAt = Date.now() + READ_TOKEN_TTL_MS
      this.readToken = { value: await signAuditReadToken({ account: this.account, host: this.host, expiresAt }), expiresAt }
    }
    return `${AUDIT_READ_SCHEME} ${this.readToken.value}`
  }

  async request(method: string, path: string, body?: unknown, authorization?: string): Promise<Record<string, unknown>> {
    let res: Response
    try {
      const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {}
      if (authorization) headers.authorization = authorization
      res = await fetch(`${this.host}${path}`, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
      })
    } catch (cause) {
      throw new HostRequestError('enclave_unavailable', `Cannot reach the bursar host at ${this.host}: is it running (make sim)?`, 0, {})
    }
    const json = (await res.json().catch(() => null)) as Record<string, unknown> | null
    if (!res.ok && typeof json?.code !== 'string') {
      // A bursar host answers every refusal with {code, message}: this is another server (or a proxy's error page).
      throw new HostRequestError('host_not_bursar', `${this.host} answered HTTP ${res.status} ${res.statusText} to ${method} ${path} without a bursar error: is it a bursar host?`, res.status, json ?? {}, [
        `Check --host / BURSAR_HOST_URL (now ${this.host}); \`curl ${this.host}/readyz\` on a bursar host shows {"ready":…,"phase":…}.`,
      ])
    }
    if (!res.ok) throw new HostRequestError(String(json!.code), String(json!.message ?? res.statusText), res.status, json!)
    if (json === null) throw new HostRequestError('host_not_bursar', `${this.host} answered ${method} ${path} with something that is not JSON: is it a bursar host?`, res.status, {})
    return json
  }
}

function receiptInvalid(why: string): HostRequestError {
  return new HostRequestError('owner_receipt_invalid', `The host's answer is not backed by an enclave receipt: ${why}`, 0, {}, [
    'The act may never have reached the enclave. Do not rely on it: check the wallet (`bursar owner wallet list`) or use another host.',
  ])
}
