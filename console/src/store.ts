/** The console's state, its reads from the host and the owner acts (through OwnerClient). */
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import { type AuditCheck, type AttestationView, checkAttestation, verifyOwnerAudit } from './auditChecks.js'
import { type OwnerSession, connectOwner, ownerGet, ownerWallets } from './ownerSession.js'

export type StoredEntry = AuditEntry & { hash?: string; mac?: string }
export type Agent = WalletInfo['agents'][number]
export type Editor = { wallet: string; agent: Agent; text: string; baseline: string; mode?: 'yaml' | 'form' }
export type Ready = { phase?: string; mode?: string; stateVersion?: number; receiptPublicKey?: string; signedHead?: number | null }

const params = new URLSearchParams(location.search)
export const state = {
  host: (params.get('host') ?? location.origin).replace(/\/+$/, ''),
  ready: null as Ready | null,
  session: null as OwnerSession | null,
  wallets: [] as WalletInfo[],
  entries: [] as StoredEntry[],
  checkpoints: [] as AuditCheckpoint[],
  scope: '' as string,
  audit: null as AuditCheck | null,
  attestation: null as AttestationView | null,
  rootPem: localStorage.getItem('bursar.attestationRoot') ?? '',
  tab: 'wallets' as 'wallets' | 'audit',
  editor: null as Editor | null,
  confirmRevoke: null as string | null,
  busy: null as string | null,
  notice: null as { kind: 'ok' | 'error'; text: string } | null,
  focusPending: null as string | null,
  /** wallet → the webhook URL the host keeps for it (owner-signed), as last read. */
  hooks: new Map<string, string | null>(),
}

export const short = (s: string, n = 10) => (s.length > n + 4 ? `${s.slice(0, n)}…${s.slice(-4)}` : s)
export const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
let renderer: () => void = () => {}
/** Re-renders the page (main.ts registers the renderer). */
export const update = () => renderer()
export function setRenderer(fn: () => void): void {
  renderer = fn
}

export function routeFromHash(): void {
  const m = /^#\/approve\/(0x[0-9a-fA-F]{40})\/([^/]+)$/.exec(location.hash)
  if (m) {
    state.tab = 'wallets'
    state.focusPending = decodeURIComponent(m[2]!)
  } else if (location.hash === '#/audit') state.tab = 'audit'
  else if (location.hash === '#/wallets' || location.hash === '') state.tab = 'wallets'
}

// ---------------------------------------------------------------- data

export async function loadReady(): Promise<void> {
  state.ready = await fetch(`${state.host}/readyz`).then((r) => r.json() as Promise<Ready>, () => null)
  const head = await fetch(`${state.host}/v1/audit/head`).then((r) => r.json() as Promise<{ checkpoint?: { seq: number } | null }>, () => null)
  if (state.ready) state.ready.signedHead = head?.checkpoint?.seq ?? null
}

/**
 * Re-reads the owner's wallets and the audit entries: only the entries after the last one held (the periodic
 * refresh; the log only grows), or all of them again (`full`: sign-in and every audit check, so an entry changed
 * in place on the host is seen).
 */
export async function loadOwnerData(full = true): Promise<void> {
  const s = state.session
  if (!s) return
  state.wallets = await ownerWallets(s)
  for (const w of state.wallets) {
    if (state.hooks.has(w.address)) continue
    const h = await ownerGet<{ url: string | null }>(s, `/v1/owner/webhooks/${w.address}`).catch(() => ({ url: null }))
    state.hooks.set(w.address, h.url)
  }
  const last = state.entries.at(-1)?.seq
  const incremental = !full && last !== undefined
  const entries: StoredEntry[] = incremental ? [...state.entries] : []
  const checkpoints: AuditCheckpoint[] = incremental ? [...state.checkpoints] : []
  for (let after = incremental ? last : -1; ; ) {
    const page = await ownerGet<{ scope: string; entries: StoredEntry[]; checkpoints: AuditCheckpoint[]; next: number | null }>(
      s,
      `/v1/audit/entries?after=${after}&limit=1000`,
    )
    state.scope = page.scope
    entries.push(...page.entries)
    checkpoints.push(...page.checkpoints)
    // audit39: a page may be empty and still have a next (the host's row budget ran out): follow it while it advances.
    if (page.next === null || page.next <= after) break
    after = page.next
  }
  // An open host serves the whole log: the views show the owner's agents only, the audit check verifies all of it.
  state.entries = entries
  state.checkpoints = checkpoints
}

export async function refresh(): Promise<void> {
  try {
    await loadReady()
    await loadOwnerData(false)
  } catch (err) {
    state.notice = { kind: 'error', text: (err as Error).message }
  }
  update()
}

export async function connect(): Promise<void> {
  state.busy = 'connect'
  state.notice = null
  update()
  try {
    state.session = await connectOwner(state.host)
    await loadOwnerData()
    await runAudit()
  } catch (err) {
    state.session = null
    state.notice = { kind: 'error', text: (err as Error).message }
  }
  state.busy = null
  update()
}

/** Runs one owner act through OwnerClient (the wallet prompts for the EIP-712 signature), then re-reads. */
export async function act(label: string, fn: (s: OwnerSession) => Promise<unknown>): Promise<void> {
  const s = state.session
  if (!s) return
  state.busy = label
  state.notice = null
  update()
  try {
    await fn(s)
    s.saveMarks()
    state.notice = { kind: 'ok', text: `${label}: done (enclave receipt verified)` }
    await loadOwnerData()
  } catch (err) {
    const e = err as Error & { shortMessage?: string; code?: string }
    state.notice = { kind: 'error', text: `${label} failed: ${e.code ? `${e.code}: ` : ''}${e.shortMessage ?? e.message}` }
  }
  state.busy = null
  update()
}

export async function runAudit(): Promise<void> {
  const s = state.session
  if (!s) return
  state.audit = await verifyOwnerAudit({ session: s, scope: state.scope, entries: state.entries, checkpoints: state.checkpoints })
  update()
}

export async function runAttestation(): Promise<void> {
  localStorage.setItem('bursar.attestationRoot', state.rootPem)
  state.attestation = await checkAttestation({ host: state.host, rootPem: state.rootPem.trim() || null, session: state.session })
  update()
}
