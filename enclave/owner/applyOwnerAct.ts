import { hexToBytes } from 'viem'
import { checkLedgerEvents } from '../../core/ledger/checkLedgerEvents.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import type { WalletChange } from '../../core/owner/applyWalletChange.js'
import type { WalletRecord, WalletView } from '../../core/state/stateTypes.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { type DecisionStep, type GovernanceDecision, GovernanceDecisionSchema } from '../../shared/governance/decisionSchema.js'
import { stepsFitAct } from '../../shared/governance/stepsFitAct.js'
import { createCounts, createStillFits } from '../../shared/governance/createCounts.js'
import { DECISION_DOMAIN, VIEW_DOMAIN, linkHash, openLink, sealLink } from '../../shared/governance/linkMac.js'
import { type OwnerActView, type WireError, walletJson } from '../../shared/governance/ownerActView.js'
import { isOwnerActName } from '../../shared/owner/ownerActNames.js'
import { CREATE_WINDOW_MS, OWNER_LIMITS, STATE_GROWING, checkLimit } from '../../shared/owner/ownerLimits.js'
import { makeOwnerReceipt } from '../../shared/owner/ownerReceipt.js'
import type { Enclave, Tx } from '../Enclave.js'
import type { HandlerResult } from '../protocol/HandlerResult.js'
import { generateSignerKey } from '../sign/generateSignerKey.js'
import { exportSealedKey, openImportKey } from './keyExitShell.js'
import { applyEvents } from './ledgerOps.js'

export type OwnerActParameters = { primaryType: string; message: string; signature: string; policy?: string | undefined }
/** A view the signer sent to governance, and what its decision must be bound to. */
export type SentView = {
  bytes: Uint8Array; hash: `0x${string}`; wallet: `0x${string}` | null; ownerSeq: number | null; act: string; key: { privateKey: Uint8Array; address: `0x${string}` } | null
  /** The signer's clock in the view, and the act's hash (the relayed decision must come with the same act; rt36a: hashes, not the act's text, wait here). */
  /** rt36a: the wallet's held acts in the view (every change makes a new array): the agent path applies due ones. */
  now: number; actDigest: string; held: WalletView['held']; create: { owner: string; admitted: boolean; allowlist: boolean } | null
}
type Key = NonNullable<SentView['key']>
/** The address a CreateWallet decision names for the key the signer generates (governance/governOwnerAct.ts NEW_WALLET). */
const NEW_WALLET = `0x${'00'.repeat(20)}`

/** SECURITY: how old a view may be when its decision applies: a host holding a decision shifts governance's `now` (time locks, a key exit's effectiveAt) by at most this. */
export const VIEW_MAX_AGE_MS = 30_000
/** Views awaiting a decision, per signer: at most this many (one per wallet; the oldest goes first). */
const MAX_OUTSTANDING = 1_024
const LINK_PURPOSE = 'governance-link'

/**
 * Issue 12 stage B, step 1 of an owner act (in the enclave's single writer): the signer builds the MACed view of what
 * the act reads and answers the host with it and the link key sealed for governance (never in clear); the host relays
 * the view to governance's own process and the decision back (ownerActDecision: applyOwnerActDecision).
 */
export async function applyOwnerAct(enclave: Enclave, params: OwnerActParameters): Promise<HandlerResult<'ownerAct'>> {
  const sent = ownerActView(enclave, params)
  outstanding(enclave).put(sent)
  return { ok: true, result: { needs: 'governance', view: sent.bytes, link: await sealedLinkKey(enclave) } }
}

/**
 * SECURITY: step 2: governance's decision, relayed by the host with the act. Applied only for a view this signer sent
 * and still awaits (hash binding: a replayed decision, one for a view a newer act on the wallet replaced, or one the
 * host held past VIEW_MAX_AGE_MS is governance_stale), with the act that view was made of.
 */
export async function applyOwnerActDecision(enclave: Enclave, req: OwnerActParameters & { decision: Uint8Array }): Promise<HandlerResult<'ownerActDecision'>> {
  const raw = openLink(enclave.linkKey, DECISION_DOMAIN, req.decision) as { viewHash?: unknown } | null
  if (raw === null) throw invalidDecision('its MAC does not check under the link key')
  const sent = outstanding(enclave).take(String(raw.viewHash))
  if (!sent) throw new EnclaveError('governance_stale', 'No view of this signer awaits this decision (answered already, or replaced by a newer act on the wallet)')
  if (actDigest(req) !== sent.actDigest) throw invalidDecision('it comes with another act than its view')
  const age = enclave.now() - sent.now
  if (age > VIEW_MAX_AGE_MS || age < 0) throw new EnclaveError('governance_stale', `The decision's view is ${age} ms old (at most ${VIEW_MAX_AGE_MS} ms): its clock no longer holds`)
  return applyGovernanceDecision(enclave, sent, req.decision, raw)
}

const actDigest = (p: OwnerActParameters) => linkHash(Buffer.from(JSON.stringify([p.primaryType, p.message, p.signature, p.policy ?? null])))
const invalidDecision = (why: string) => new EnclaveError('governance_decision_invalid', `Governance decision refused: ${why}`)

/** The views a signer awaits decisions for: one per wallet (CreateWallet: per message), found by the view's hash. */
class Outstanding {
  private readonly bySlot = new Map<string, SentView>()
  put(sent: SentView): void {
    const slot = sent.wallet ?? `new:${sent.actDigest}`
    this.bySlot.delete(slot)
    this.bySlot.set(slot, { ...sent, bytes: new Uint8Array(0) }) // SECURITY (rt36a): a view's bytes (MiBs) never wait here
    if (this.bySlot.size > MAX_OUTSTANDING) this.bySlot.delete(this.bySlot.keys().next().value!)
  }
  take(hash: string): SentView | undefined {
    for (const [slot, s] of this.bySlot) if (s.hash === hash) {
      this.bySlot.delete(slot)
      return s
    }
    return undefined
  }
}
const outstandingOf = new WeakMap<Enclave, Outstanding>()
function outstanding(enclave: Enclave): Outstanding {
  let o = outstandingOf.get(enclave)
  if (!o) outstandingOf.set(enclave, (o = new Outstanding()))
  return o
}

/** The link key sealed under `governance-link` (sealed once per key): governance's process unseals it with its own sealer. */
const sealedLinks = new WeakMap<Uint8Array, Promise<Uint8Array>>()
function sealedLinkKey(enclave: Enclave): Promise<Uint8Array> {
  const k = enclave.linkKey
  let p = sealedLinks.get(k)
  if (!p) sealedLinks.set(k, (p = enclave.params.sealer.seal({ purpose: LINK_PURPOSE, walletId: '', version: 0, plaintext: k })))
  return p
}

/** The signer's view of an act for governance, MACed under the link key (`bursar.gov.view.v1`). Reads, never changes. */
export function ownerActView(enclave: Enclave, params: OwnerActParameters): SentView {
  let raw: Record<string, unknown> = {}
  try {
    const j: unknown = JSON.parse(params.message)
    if (j && typeof j === 'object') raw = j as Record<string, unknown>
  } catch {} // governance refuses it (owner_act_invalid) after the same parse
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  let key: Key | null = null
  let imported: OwnerActView['imported'] = null
  let walletAddress: string | null = null
  if (params.primaryType === 'ImportWallet') {
    try {
      key = openImportKey(enclave, str(raw.sealedKey), str(raw.address))
      ;[walletAddress, imported] = [key.address.toLowerCase(), { address: key.address }]
    } catch (err) {
      imported = { error: wireError(err) }
    }
  } else if (params.primaryType !== 'CreateWallet') walletAddress = str(raw.wallet).toLowerCase()
  let wallet: OwnerActView['wallet'] = null
  let walletError: WireError | null = null
  if (walletAddress !== null) {
    const w = params.primaryType === 'ImportWallet' ? enclave.state.wallets.get(walletAddress) : lookUp(enclave, walletAddress, (e) => (walletError = e))
    wallet = w ? walletJson(w) : null
  }
  // CreateWallet / ImportWallet of a new key. scope38: the owner's counts and whether the act's nonce is live, at the
  // window governance takes from `now` (not every owner's nonces).
  const now = enclave.now(), create = params.primaryType === 'CreateWallet' || (params.primaryType === 'ImportWallet' && !wallet) ? createCounts(enclave.state, enclave.params.admission, str(raw.owner).toLowerCase(), str(raw.nonce).toLowerCase(), now - 2 * CREATE_WINDOW_MS) : null
  const view: OwnerActView = { v: 1, act: { primaryType: params.primaryType, message: params.message, signature: params.signature, policy: params.policy ?? null },
    now, auditChain: enclave.audit.id, snapshotBytes: enclave.lastSnapshotBytes, walletAddress, wallet, walletError, create, imported }
  const bytes = sealLink(enclave.linkKey, VIEW_DOMAIN, view)
  return { bytes, hash: linkHash(bytes), wallet: walletAddress as `0x${string}` | null, ownerSeq: wallet?.ownerSeq ?? null, act: params.primaryType, key, now: view.now, actDigest: actDigest(params), held: wallet?.held,
    create: create && { owner: str(raw.owner).toLowerCase(), admitted: create.admitted, allowlist: create.allowlist } }
}

function lookUp(enclave: Enclave, address: string, onError: (e: WireError) => void) {
  try {
    return enclave.state.wallet(address)
  } catch (err) {
    onError(wireError(err))
    return undefined
  }
}

function wireError(err: unknown): WireError {
  if (err instanceof EnclaveError) return { code: err.code, message: err.shortMessage }
  throw err
}

/**
 * SECURITY: the signer's end of the seam. A decision is applied only if it carries the link key's MAC under the
 * decision tag (a view reflected back fails), names the view this signer sent (its hash, wallet and act), and was
 * made at the wallet's current ownerSeq (else governance_stale: another act landed since); its steps are parsed by
 * the one schema and may touch only that wallet; ledger events are checked against the ledger before they apply.
 */
export async function applyGovernanceDecision(enclave: Enclave, sent: SentView, decisionBytes: Uint8Array, opened = openLink(enclave.linkKey, DECISION_DOMAIN, decisionBytes)): Promise<HandlerResult<'ownerActDecision'>> {
  const d = checkDecision(enclave, sent, opened)
  const key = d.key === 'generate' ? generateSignerKey() : d.key === 'import' ? sent.key! : null
  const tx = enclave.beginTx()
  tx.snapshot = true
  const address = (w: string) => (w === NEW_WALLET && key ? key.address : (w as `0x${string}`))
  for (const s of d.steps) applyStep(enclave, tx, s, key, address)
  const o = d.outcome
  if (o.kind === 'refused') {
    // SECURITY (rt34a): steps before a refusal (due held acts, loosenings) changed state and were audited: they leave
    // sealed in this answer's block, else the host's log has a hole the next load refuses.
    if (d.steps.length > 0) return { ok: false, error: { ...o.extra, ...o.error }, persist: await enclave.finishTx(tx) }
    throw new EnclaveError(o.error.code, o.error.message, o.extra ? { extra: o.extra } : {})
  }
  if (o.kind === 'failed') return { ok: false, error: o.error, persist: await enclave.finishTx(tx) }
  const result: Record<string, unknown> & { wallet: string; ownerSeq: number } = { ...o.result, wallet: address(o.result.wallet) }
  if (d.key === 'export') {
    const w = enclave.state.wallet(result.wallet)
    result.exported = exportSealedKey(w, w.exit!)
  }
  const persist = await enclave.finishTx(tx)
  return { ok: true, result: { ...result, receipt: signOwnerReceipt(enclave, d, result.wallet, result.ownerSeq) }, persist }
}

/** `raw`: the decision's body as openLink gave it (null: its MAC did not check). */
function checkDecision(enclave: Enclave, sent: SentView, raw: unknown): GovernanceDecision {
  if (raw === null) throw invalidDecision('its MAC does not check under the link key')
  const parsed = GovernanceDecisionSchema.safeParse(raw)
  if (!parsed.success) throw invalidDecision(`it does not parse (${parsed.error.issues[0]?.path.join('.')})`)
  const d = parsed.data
  if (d.viewHash !== sent.hash || d.wallet !== sent.wallet || d.act !== sent.act || d.ownerSeq !== sent.ownerSeq) throw invalidDecision('it answers another view')
  const live = sent.wallet === null ? undefined : enclave.state.wallets.get(sent.wallet)
  if (sent.wallet !== null && sent.ownerSeq !== null && live?.ownerSeq !== d.ownerSeq) throw new EnclaveError('governance_stale', `The decision was made at ownerSeq ${d.ownerSeq}; the wallet has moved on`)
  // SECURITY (rt36a): agent turns run between view and decision: one may have applied a held act the decision applies
  // again, or moved the ledger so the decision's events no longer fit (a halt below): stale, before anything changes.
  if (live && (live.held !== sent.held || !checkLedgerEvents(live.ledger, d.steps.flatMap((s) => (s.type === 'ledger' ? s.events : []))).ok)) throw new EnclaveError('governance_stale', 'An agent turn changed the wallet since the view')
  // SECURITY (scope38): the view's state size passed the soft limit, but acts on other wallets applied since may have
  // grown the state past it (concurrent views all under it): a growing act is refused now, as governance would.
  if (STATE_GROWING.has(d.act)) checkLimit(enclave.lastSnapshotBytes <= OWNER_LIMITS.stateSoftBytes, 'stateSoftBytes', `The sealed state grew to ${enclave.lastSnapshotBytes} bytes since the view (limit ${OWNER_LIMITS.stateSoftBytes} for growing acts; freeze and revoke still work)`)
  const own = d.wallet ?? NEW_WALLET
  const named = (s: DecisionStep) => (s.type === 'audit' ? s.fields.wallet : s.type === 'wallet_created' ? own : s.wallet)
  if (d.steps.some((s) => named(s) !== undefined && named(s)!.toLowerCase() !== own)) throw invalidDecision('a step names another wallet')
  const creates = d.steps.filter((s) => s.type === 'wallet_created').length
  const keyOk = { none: creates === 0, generate: creates === 1 && sent.act === 'CreateWallet', import: creates === 1 && sent.key !== null, export: creates === 0 }[d.key]
  if (!keyOk || (d.actHash === null && d.outcome.kind !== 'refused')) throw invalidDecision(`key operation ${d.key} does not fit the act`)
  // SECURITY (create37): a create re-checks its nonce, admission and limits now (createStillFits), not the view's counts.
  const made = d.steps.find((s) => s.type === 'wallet_created')
  if (made && made.owner.toLowerCase() !== sent.create?.owner) throw invalidDecision('its new wallet has another owner than its view')
  // SECURITY (create37): an imported key's wallet that landed since the view (another ImportWallet of the key) is not made again (it would replace the record: ledger, agents, owners).
  if (made && sent.key && enclave.state.wallets.has(sent.key.address.toLowerCase())) throw new EnclaveError('governance_stale', 'The imported wallet was added since the view')
  if (made && !createStillFits(createCounts(enclave.state, enclave.params.admission, made.owner.toLowerCase(), made.nonce, made.pruneBefore), sent.create!, made.pruneBefore, enclave.state.newestPruned)) throw new EnclaveError('governance_stale', 'The create no longer fits: its nonce was used, or a limit was reached since the view')
  const misfit = stepsFitAct(d)
  if (misfit) throw invalidDecision(`a step does not fit the act: ${misfit}`)
  return d
}

function applyStep(enclave: Enclave, tx: Tx, s: DecisionStep, key: Key | null, address: (w: string) => `0x${string}`): void {
  switch (s.type) {
    case 'audit':
      enclave.appendInfo(tx, s.event, s.fields.wallet === undefined ? s.fields : { ...s.fields, wallet: address(s.fields.wallet) })
      return
    case 'wallet_changed':
      enclave.state.apply({ type: 'wallet_changed', wallet: s.wallet, change: walletChange(s.change) })
      return
    case 'ledger': {
      // SECURITY: the signer checks every ledger event it is handed (a pending that is not pending, a permit not live).
      const wallet = enclave.state.wallet(s.wallet)
      const checked = checkLedgerEvents(wallet.ledger, s.events)
      if (!checked.ok) enclave.halt(`governance decision's ledger events rejected: ${checked.message}`)
      applyEvents(enclave, wallet, s.events)
      return
    }
    case 'owner_seq':
      enclave.state.apply(s)
      return
    case 'wallet_created': {
      const { owner, label, createdAt, nonce, issuedAt, pruneBefore } = s
      const wallet: WalletRecord = { address: key!.address, privateKey: key!.privateKey, owner, label, createdAt, ownerSeq: 0, rolledBack: false, agents: new Map(), policies: new Map(), ledger: new SpendLedger() }
      enclave.state.apply({ type: 'wallet_created', wallet, nonce, issuedAt, pruneBefore })
      return
    }
  }
}

/** A decision's change as the state's WalletChange: agents' keys as bytes, a null governance record as dropped. */
function walletChange(c: Extract<DecisionStep, { type: 'wallet_changed' }>['change']): WalletChange {
  if (c.type === 'agent_registered') return { type: c.type, agent: { ...c.agent, publicKey: hexToBytes(c.agent.publicKey) } }
  if (c.type === 'governance_set') return { type: c.type, set: Object.fromEntries(Object.entries(c.set).map(([k, v]) => [k, v ?? undefined])) }
  return c as WalletChange
}

/**
 * SECURITY: the receipt of an applied act, signed by the attested receipt key after its snapshot is sealed; owner
 * tools keep it as a high-water mark (rollback) and as proof the act reached the enclave.
 */
function signOwnerReceipt(enclave: Enclave, d: GovernanceDecision, wallet: string, ownerSeq: number) {
  const head = enclave.audit.head()
  if (!isOwnerActName(d.act) || d.actHash === null) throw new EnclaveError('governance_decision_invalid', 'Governance decision refused: no act hash')
  const body = { v: 1 as const, act: d.act, actHash: d.actHash, wallet: wallet.toLowerCase(), ownerSeq, stateVersion: enclave.state.version, auditHead: head, ...(enclave.audit.chain && { chain: enclave.audit.chain }), time: enclave.now() }
  return makeOwnerReceipt(body, enclave.receiptSigner)
}
