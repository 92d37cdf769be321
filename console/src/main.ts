/**
 * The bursar owner console. Reads with the owner's read token (signed once in the browser wallet), acts with
 * EIP-712 owner acts signed in the same wallet (cli/lib/OwnerClient.ts builds and checks them), and verifies
 * the audit log in the browser with the shared verifiers. The host serves this page but holds no owner key.
 */
import './polyfills.js'
import './styles.css'
import { type TemplateResult, html, nothing, render } from 'lit'
import YAML from 'yaml'
import { checkPolicyText } from '../../cli/lib/checkPolicyText.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { ApprovalSummarySchema, approvalDigest } from '../../shared/owner/approvalSummary.js'
import { OwnerActMessageSchemas } from '../../shared/owner/ownerActTypes.js'
import { signWebhookSetting } from '../../shared/owner/webhookSetting.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import { type Policy, policyHash } from '../../shared/schemas/policy.js'
import { type AuditCheck, type AttestationView, checkAttestation, verifyOwnerAudit } from './auditView.js'
import { drawBudgetChart } from './budgetChart.js'
import { type OwnerSession, connectOwner, ownerGet, ownerWallets } from './ownerSession.js'
import { dryRunPolicy } from './dryRun.js'
import { diffLines } from './policyDiff.js'
import { budgetViews, formatUnits, velocity } from './spend.js'

type StoredEntry = AuditEntry & { hash?: string; mac?: string }
type Agent = WalletInfo['agents'][number]
type Editor = { wallet: string; agent: Agent; text: string; baseline: string }
type Ready = { phase?: string; mode?: string; stateVersion?: number; receiptPublicKey?: string; signedHead?: number | null }

const params = new URLSearchParams(location.search)
const state = {
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

const app = document.getElementById('app')!
app.replaceChildren()
const short = (s: string, n = 10) => (s.length > n + 4 ? `${s.slice(0, n)}…${s.slice(-4)}` : s)
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
const update = () => {
  render(view(), app)
  drawCharts()
}

function routeFromHash(): void {
  const m = /^#\/approve\/(0x[0-9a-fA-F]{40})\/([^/]+)$/.exec(location.hash)
  if (m) {
    state.tab = 'wallets'
    state.focusPending = decodeURIComponent(m[2]!)
  } else if (location.hash === '#/audit') state.tab = 'audit'
  else if (location.hash === '#/wallets' || location.hash === '') state.tab = 'wallets'
}

// ---------------------------------------------------------------- data

async function loadReady(): Promise<void> {
  state.ready = await fetch(`${state.host}/readyz`).then((r) => r.json() as Promise<Ready>, () => null)
  const head = await fetch(`${state.host}/v1/audit/head`).then((r) => r.json() as Promise<{ checkpoint?: { seq: number } | null }>, () => null)
  if (state.ready) state.ready.signedHead = head?.checkpoint?.seq ?? null
}

async function loadOwnerData(): Promise<void> {
  const s = state.session
  if (!s) return
  state.wallets = await ownerWallets(s)
  for (const w of state.wallets) {
    if (state.hooks.has(w.address)) continue
    const h = await ownerGet<{ url: string | null }>(s, `/v1/owner/webhooks/${w.address}`).catch(() => ({ url: null }))
    state.hooks.set(w.address, h.url)
  }
  const entries: StoredEntry[] = []
  const checkpoints: AuditCheckpoint[] = []
  for (let after = -1; ; ) {
    const page = await ownerGet<{ scope: string; entries: StoredEntry[]; checkpoints: AuditCheckpoint[]; next: number | null }>(
      s,
      `/v1/audit/entries?after=${after}&limit=1000`,
    )
    state.scope = page.scope
    entries.push(...page.entries)
    checkpoints.push(...page.checkpoints)
    if (page.next === null || page.entries.length === 0) break
    after = page.next
  }
  // An open host serves the whole log: the views show the owner's agents only, the audit check verifies all of it.
  state.entries = entries
  state.checkpoints = checkpoints
}

async function refresh(): Promise<void> {
  try {
    await loadReady()
    await loadOwnerData()
  } catch (err) {
    state.notice = { kind: 'error', text: (err as Error).message }
  }
  update()
}

async function connect(): Promise<void> {
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
async function act(label: string, fn: (s: OwnerSession) => Promise<unknown>): Promise<void> {
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

async function runAudit(): Promise<void> {
  const s = state.session
  if (!s) return
  state.audit = await verifyOwnerAudit({ session: s, scope: state.scope, entries: state.entries, checkpoints: state.checkpoints })
  update()
}

async function runAttestation(): Promise<void> {
  localStorage.setItem('bursar.attestationRoot', state.rootPem)
  state.attestation = await checkAttestation({ host: state.host, rootPem: state.rootPem.trim() || null, session: state.session })
  update()
}

// ---------------------------------------------------------------- views

function view(): TemplateResult {
  const r = state.ready
  return html`
    <header>
      <h1>bursar <span>owner console</span></h1>
      <div class="enclave" data-testid="enclave-status">
        ${r
          ? html`enclave <b>${r.phase ?? '?'}</b> (${r.mode ?? '?'} mode) · state v${r.stateVersion ?? '?'} · signed audit head #${r.signedHead ?? '-'}`
          : 'host not reachable'}
      </div>
      <div class="who">
        ${state.session
          ? html`signed in as <code data-testid="owner-address">${state.session.address}</code>`
          : html`<button data-testid="connect" ?disabled=${state.busy === 'connect'} @click=${connect}>Connect wallet</button>`}
      </div>
    </header>
    <nav>
      <a href="#/wallets" class=${state.tab === 'wallets' ? 'on' : ''}>Wallets</a>
      <a href="#/audit" class=${state.tab === 'audit' ? 'on' : ''} data-testid="tab-audit">Audit &amp; trust</a>
      <span class="host">host ${state.host}</span>
    </nav>
    ${state.notice ? html`<p class="notice ${state.notice.kind}" data-testid="notice">${state.notice.text}</p>` : nothing}
    ${state.busy && state.busy !== 'connect' ? html`<p class="busy">${state.busy}: confirm in your wallet…</p>` : nothing}
    <main>${state.tab === 'audit' ? auditView() : walletsView()}</main>
  `
}

function walletsView(): TemplateResult {
  if (!state.session)
    return html`<section class="intro">
      <p>Connect the wallet that holds your <b>owner key</b> (MetaMask, Coinbase Wallet, Rabby, or a hardware wallet through them).
      The page signs a read token to show <b>only your wallets</b>, and every change is an EIP-712 message your wallet shows you before you sign.</p>
    </section>`
  if (state.wallets.length === 0)
    return html`<p data-testid="no-wallets">No wallets for ${state.session.address}. Create one with <code>bursar owner wallet create</code>.</p>`
  return html`${state.wallets.map(walletView)} ${state.editor ? editorView(state.editor) : nothing}`
}

function walletView(w: WalletInfo): TemplateResult {
  const now = Date.now()
  const open = w.pending.filter((p) => p.status === 'pending' && Number(p.expiresAt) > now)
  return html`<section class="wallet" data-testid="wallet" data-wallet=${w.address}>
    <h2><code>${w.address}</code> ${w.label}</h2>
    <p class="meta">owner seq ${w.ownerSeq} · ${w.agents.length} agent(s) · created ${time(w.createdAt)}</p>
    ${w.rolledBack
      ? html`<p class="danger">This wallet's enclave state was rolled back: it signs nothing until you resync.
          <button @click=${() => act('Resync', (s) => s.client.resync(w.address))}>Resync (sign)</button></p>`
      : nothing}
    ${open.length ? html`<h3>Waiting for you (${open.length})</h3>${open.map((p) => pendingView(w, p))}` : nothing}
    ${w.agents.map((a) => agentView(w, a))}
    ${webhookView(w)}
    ${w.permits.length
      ? html`<h3>Permits</h3>
          <table>
            <tr><th>permit</th><th>agent</th><th>amount</th><th>pay-to / host</th><th>expires</th><th>state</th></tr>
            ${w.permits.map(
              (p) => html`<tr><td>${String(p.permitId)}</td><td>${short(String(p.agentId), 12)}</td><td>${String(p.amount)}</td>
              <td>${short(String(p.payTo ?? ''))} ${String(p.host ?? '')}</td><td>${time(Number(p.expiresAt))}</td>
              <td>${p.used ? 'used' : p.released ? 'released' : 'live'}</td></tr>`,
            )}
          </table>`
      : nothing}
  </section>`
}

/** Where this wallet's pending approvals are announced: a URL the owner signs for (SetWebhook, host setting). */
function webhookView(w: WalletInfo): TemplateResult {
  const current = state.hooks.get(w.address) ?? null
  const save = (e: Event) => {
    e.preventDefault()
    const url = String(new FormData(e.target as HTMLFormElement).get('url') ?? '').trim()
    return act(url ? 'Webhook' : 'Webhook removed', async (s) => {
      const body = await signWebhookSetting({ account: s.client.account, wallet: w.address, url, issuedAt: Date.now() })
      const res = await fetch(`${s.client.host}/v1/owner/webhooks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const j = (await res.json().catch(() => ({}))) as { code?: string; message?: string }
      if (!res.ok) throw new Error(`${j.code ?? res.status}: ${j.message ?? ''}`)
      state.hooks.set(w.address, url || null)
    })
  }
  return html`<details class="more" data-testid="webhook">
    <summary>Notifications ${current ? html`<span class="meta">→ ${current}</span>` : html`<span class="meta">(none)</span>`}</summary>
    <p class="meta">When an agent asks for approval, the host POSTs this URL once (JSON, Slack-compatible <code>text</code>, a link back here; no secrets), retrying with backoff.</p>
    <form class="inline" @submit=${save}>
      <input name="url" type="url" size="60" placeholder="https://hooks.slack.com/services/…" .value=${current ?? ''}>
      <button ?disabled=${!!state.busy}>Save (sign)</button>
    </form>
  </details>`
}

/** Every field the approval binds: the enclave's summary, re-hashed here to the digest the wallet will sign. */
function pendingView(w: WalletInfo, p: Record<string, unknown>): TemplateResult {
  const id = String(p.pendingId)
  const parsed = ApprovalSummarySchema.safeParse(p.summary)
  const digest = parsed.success ? approvalDigest(parsed.data) : null
  const matches = digest !== null && digest === String(p.digest ?? '').toLowerCase()
  const focus = state.focusPending === id
  return html`<div class="pending-card ${focus ? 'focus' : ''}" data-testid="pending" data-pending=${id}>
    <p><b>${parsed.success ? parsed.data.describe : 'UNREADABLE SUMMARY: do not approve'}</b></p>
    <table class="fields">
      <tr><th>pending id</th><td>${id}</td></tr>
      <tr><th>agent</th><td><code>${String(p.agentId)}</code></td></tr>
      <tr><th>expires</th><td>${time(Number(p.expiresAt))}</td></tr>
      ${parsed.success
        ? html`
            <tr><th>resource host (advisory)</th><td>${parsed.data.host ?? '—'}</td></tr>
            <tr><th>retry valid for</th><td>${parsed.data.validForSeconds === null ? 'no end (until mined, used or revoked)' : `at most ${parsed.data.validForSeconds} s`}</td></tr>
            <tr><th>a retry may change only</th><td>${parsed.data.free.length ? parsed.data.free.join(', ') : 'nothing'}</td></tr>
            ${Object.entries(parsed.data.action).map(([k, v]) => html`<tr><th>action.${k}</th><td><code data-testid="bound-${k}">${typeof v === 'string' ? v : canonicalJson(v)}</code></td></tr>`)}
          `
        : nothing}
      <tr><th>digest you sign</th><td><code>${digest ?? '—'}</code> ${matches ? html`<span class="ok">matches the enclave's</span>` : html`<span class="bad">does not match: not signing</span>`}</td></tr>
    </table>
    <button class="primary" data-testid="approve" ?disabled=${!matches || !!state.busy}
      @click=${() => act(`Approve ${id}`, (s) => s.client.resolvePending(w.address, id, true))}>Approve (sign)</button>
    <button data-testid="reject" ?disabled=${!!state.busy}
      @click=${() => act(`Reject ${id}`, (s) => s.client.resolvePending(w.address, id, false))}>Reject (sign)</button>
  </div>`
}

function agentView(w: WalletInfo, a: Agent): TemplateResult {
  const now = Date.now()
  const mine = state.entries.filter((e) => e.agentId === a.agentId)
  let policy: Policy | null = null
  try {
    policy = a.policy ? (JSON.parse(a.policy.json) as Policy) : null
  } catch {
    policy = null
  }
  const budgets = policy ? budgetViews(policy, mine, now) : []
  const vel = velocity(mine, now)
  const recent = mine.filter((e) => e.event.startsWith('sign_') || e.event.startsWith('pending_')).slice(-8).reverse()
  const revoked = a.status === 'revoked'
  return html`<article class="agent" data-testid="agent" data-agent=${a.agentId}>
    <h3>${a.label || 'agent'} <code>${a.agentId}</code>
      <span class="badge ${revoked ? 'bad' : a.frozen ? 'warn' : 'ok'}" data-testid="agent-status">${revoked ? 'revoked' : a.frozen ? 'frozen' : 'active'}</span></h3>
    <p class="meta" data-testid="agent-policy">${a.policy ? html`policy v${a.policy.version} <code title=${a.policy.hash}>${short(a.policy.hash, 18)}</code>` : 'no policy: signs nothing'}
      · velocity ${vel.minute}/min${policy?.velocity?.perMinute ? ` of ${policy.velocity.perMinute}` : ''}, ${vel.hour}/h${policy?.velocity?.perHour ? ` of ${policy.velocity.perHour}` : ''}</p>
    ${budgets.map(
      (b, i) => html`<div class="budget">
        <div class="chart" id=${`chart-${a.agentId}-${i}`}></div>
        <table class="fields">
          <tr><th>${b.symbol} on chain ${b.chainId}</th><th>cap</th><th>spent</th><th>remaining</th></tr>
          ${b.cap.rolling24h !== undefined ? html`<tr><td>rolling 24 h</td><td>${formatUnits(BigInt(b.cap.rolling24h), b.decimals)}</td><td>${formatUnits(b.rolling, b.decimals)}</td><td data-testid="remaining-rolling">${formatUnits(BigInt(b.cap.rolling24h) - b.rolling, b.decimals)}</td></tr>` : nothing}
          ${b.cap.calendarDay !== undefined ? html`<tr><td>calendar day (${policy?.timeZone})</td><td>${formatUnits(BigInt(b.cap.calendarDay), b.decimals)}</td><td>${formatUnits(b.today, b.decimals)}</td><td>${formatUnits(BigInt(b.cap.calendarDay) - b.today, b.decimals)}</td></tr>` : nothing}
          ${b.cap.perTx !== undefined ? html`<tr><td>per payment</td><td>${formatUnits(BigInt(b.cap.perTx), b.decimals)}</td><td></td><td></td></tr>` : nothing}
        </table>
      </div>`,
    )}
    <details open>
      <summary>Recent decisions (${recent.length})</summary>
      <table data-testid="decisions">
        <tr><th>#</th><th>time</th><th>event</th><th>amount</th><th>pay-to</th><th>verdict</th><th>deciding rule / code</th></tr>
        ${recent.map(
          (e) => html`<tr><td>${e.seq}</td><td>${time(e.time)}</td><td>${e.event}</td>
          <td>${(e.action as { amount?: string } | null)?.amount ?? ''}</td><td>${short(String((e.action as { payTo?: string } | null)?.payTo ?? ''))}</td>
          <td class=${e.verdict}>${e.verdict}</td><td>${e.rule ?? ''} ${e.code ?? ''}</td></tr>`,
        )}
      </table>
    </details>
    ${revoked
      ? nothing
      : html`<div class="actions">
          <button data-testid="freeze" ?disabled=${!!state.busy}
            @click=${() => act(a.frozen ? 'Unfreeze' : 'Freeze', (s) => s.client.act('FreezeAgent', w.address, { agentId: a.agentId, frozen: !a.frozen }))}>
            ${a.frozen ? 'Unfreeze' : 'Freeze'}</button>
          <button data-testid="edit-policy" ?disabled=${!!state.busy} @click=${() => openEditor(w, a, policy)}>Edit policy</button>
          ${state.confirmRevoke === a.agentId
            ? html`<span class="danger">Revoke ${a.label || a.agentId} for good?
                <button class="danger" data-testid="revoke-confirm"
                  @click=${() => {
                    state.confirmRevoke = null
                    return act('Revoke', (s) => s.client.act('RevokeAgent', w.address, { agentId: a.agentId }))
                  }}>Yes, revoke (sign)</button>
                <button @click=${() => ((state.confirmRevoke = null), update())}>Cancel</button></span>`
            : html`<button class="danger" data-testid="revoke" ?disabled=${!!state.busy} @click=${() => ((state.confirmRevoke = a.agentId), update())}>Revoke</button>`}
        </div>
        ${policy ? moneyActions(w, a, policy) : nothing}`}
  </article>`
}

/** Base units from a decimal amount in token units ("1.5" with 6 decimals → 1500000), or null. */
function toBaseUnits(v: string, decimals: number): string | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(v.trim())
  if (!m || (m[2] ?? '').length > decimals) return null
  return (BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt((m[2] ?? '').padEnd(decimals, '0') || '0')).toString()
}

/** Issue a single-use permit and credit budget back: owner acts like the CLI's `permit issue` / `budget credit`. */
function moneyActions(w: WalletInfo, a: Agent, policy: Policy): TemplateResult {
  const tokens = policy.tokens
  if (!tokens.length) return html``
  const form = (e: Event) => new FormData(e.target as HTMLFormElement)
  const token = (f: FormData) => tokens[Number(f.get('token'))]!
  const fail = (text: string) => ((state.notice = { kind: 'error', text }), update())
  const issue = (e: Event) => {
    e.preventDefault()
    const f = form(e)
    const t = token(f)
    const amount = toBaseUnits(String(f.get('amount')), t.decimals)
    const minutes = Number(f.get('minutes'))
    const fields = {
      agentId: a.agentId,
      permitId: `pmt_${Array.from(crypto.getRandomValues(new Uint8Array(8)), (x) => x.toString(16).padStart(2, '0')).join('')}`,
      chainId: String(t.chainId),
      asset: t.asset,
      amount: amount ?? '',
      payTo: String(f.get('payTo')).trim(),
      host: '',
      expiresAt: String(Date.now() + minutes * 60_000),
      exceedCaps: f.get('exceedCaps') === 'on',
    }
    const checked = OwnerActMessageSchemas.IssuePermit.safeParse({ ...fields, wallet: w.address, seq: '1' })
    if (!amount || !Number.isInteger(minutes) || minutes <= 0 || !checked.success)
      return fail(`Permit not issued: ${checked.success ? 'amount or lifetime invalid' : checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    return act(`Permit ${fields.permitId}`, (s) => s.client.act('IssuePermit', w.address, fields))
  }
  const credit = (e: Event) => {
    e.preventDefault()
    const f = form(e)
    const t = token(f)
    const amount = toBaseUnits(String(f.get('amount')), t.decimals)
    if (!amount || amount === '0') return fail('Credit not given: enter a positive amount')
    return act('Credit budget', (s) => s.client.act('CreditBudget', w.address, { agentId: a.agentId, chainId: String(t.chainId), asset: t.asset, amount }))
  }
  const tokenSelect = html`<select name="token">${tokens.map((t, i) => html`<option value=${i}>${t.symbol ?? t.name} (chain ${t.chainId})</option>`)}</select>`
  return html`<details class="more">
    <summary>Permits and budget</summary>
    <form class="inline" data-testid="permit-form" @submit=${issue}>
      <b>Single-use permit</b> ${tokenSelect}
      <input name="amount" placeholder="amount, e.g. 2.5" size="10" required>
      <input name="payTo" placeholder="pay-to 0x…" size="44" required>
      <input name="minutes" type="number" value="60" min="1" style="width:5rem"> min
      <label><input name="exceedCaps" type="checkbox"> may exceed caps</label>
      <button ?disabled=${!!state.busy}>Issue permit (sign)</button>
    </form>
    <form class="inline" data-testid="credit-form" @submit=${credit}>
      <b>Credit budget back</b> ${tokenSelect}
      <input name="amount" placeholder="amount" size="10" required>
      <button ?disabled=${!!state.busy}>Credit (sign)</button>
    </form>
  </details>`
}

// ---------------------------------------------------------------- policy editor

function policyYaml(p: Policy | null): string {
  if (!p) return ''
  const { wallet: _w, agentId: _a, ...body } = p
  return YAML.stringify(body)
}

function openEditor(w: WalletInfo, a: Agent, current: Policy | null): void {
  const baseline = policyYaml(current)
  const next = current ? { ...current, version: current.version + 1 } : null
  const text = next ? policyYaml(next) : 'version: 1\ntimeZone: UTC\ntokens: []\nbudgets: []\nrules: []\n'
  state.editor = { wallet: w.address, agent: a, text, baseline }
  update()
  document.getElementById('policy-editor')?.scrollIntoView()
}

function editorView(ed: Editor): TemplateResult {
  const r = checkPolicyText({ text: ed.text, format: 'yaml', wallet: ed.wallet, agentId: ed.agent.agentId, name: 'the policy' })
  const installed = ed.agent.policy?.version ?? 0
  const tooOld = r.ok && r.policy.version <= installed
  const diff = r.ok ? diffLines(ed.baseline, policyYaml(r.policy)) : []
  const hash = r.ok ? policyHash(r.policy) : null
  const dry = r.ok ? dryRunPolicy(r.policy, state.entries.filter((e) => e.agentId === ed.agent.agentId)) : null
  return html`<section class="editor" id="policy-editor" data-testid="policy-editor">
    <h2>Policy for ${ed.agent.label || ed.agent.agentId} <small>(installed: ${installed ? `v${installed}` : 'none'})</small></h2>
    <p class="meta">YAML, checked as you type with the enclave's own schema. The wallet and agent are bound for you.</p>
    <textarea spellcheck="false" rows="22" data-testid="policy-text" .value=${ed.text}
      @input=${(e: Event) => ((ed.text = (e.target as HTMLTextAreaElement).value), update())}></textarea>
    ${r.ok
      ? html`<p class="ok" data-testid="policy-valid">Valid policy v${r.policy.version} · hash <code>${hash}</code></p>`
      : html`<ul class="errors" data-testid="policy-errors">
          ${r.issues.map((i) => html`<li>${i.line ? html`line ${i.line}: ` : nothing}<b>${i.path}</b>: ${i.message}</li>`)}
        </ul>`}
    ${tooOld ? html`<p class="bad" data-testid="policy-errors">version ${r.ok ? r.policy.version : ''} is not newer than the installed v${installed}: set <code>version: ${installed + 1}</code></p>` : nothing}
    ${r.ok
      ? html`<h3>Changes against the installed policy</h3>
          <pre class="diff" data-testid="policy-diff">${diff
            .filter((d, i, all) => d.op !== ' ' || all.slice(Math.max(0, i - 2), i + 3).some((x) => x.op !== ' '))
            .map((d) => html`<span class=${d.op === '+' ? 'add' : d.op === '-' ? 'del' : ''}>${d.op} ${d.text}\n</span>`)}</pre>`
      : nothing}
    ${dry
      ? html`<h3>Dry run against recent decisions</h3>
          <p data-testid="policy-dry-run"><b>${dry.changes.length} of the last ${dry.considered}</b> decisions would change under this policy
            <span class="meta">(replayed in order through the enclave's evaluator; approvals and permits left out)</span></p>
          ${dry.changes.length
            ? html`<table><tr><th>#</th><th>time</th><th>amount</th><th>was</th><th>would be</th></tr>
                ${dry.changes.slice(-20).map((c) => html`<tr><td>${c.seq}</td><td>${time(c.time)}</td><td>${c.amount ?? ''}</td><td>${c.was}</td><td class=${c.now}>${c.now}: ${c.why}</td></tr>`)}</table>`
            : nothing}`
      : nothing}
    <button class="primary" data-testid="policy-sign" ?disabled=${!r.ok || tooOld || !!state.busy}
      @click=${() => {
        if (!r.ok) return
        const p = r.policy
        return act(`Policy v${p.version}`, async (s) => {
          await s.client.act('SetPolicy', ed.wallet, { agentId: ed.agent.agentId, version: String(p.version), policyHash: policyHash(p) }, JSON.stringify(p))
          state.editor = null
        })
      }}>Sign and install</button>
    <button @click=${() => ((state.editor = null), update())}>Close</button>
  </section>`
}

// ---------------------------------------------------------------- audit and trust

function auditView(): TemplateResult {
  const a = state.audit
  const att = state.attestation
  return html`<section>
    <h2>Audit log, verified in this browser</h2>
    ${!state.session
      ? html`<p>Connect your wallet to read your wallets' decisions.</p>`
      : html`<p>
            <button data-testid="verify-audit" @click=${async () => ((await loadOwnerData().catch(() => {})), runAudit())}>Verify again</button>
            ${a ? html`<span class="meta">checked ${time(a.checkedAt)} · ${a.scope === 'owner' ? 'your wallets only (the chain has gaps by design)' : 'the whole log'}</span>` : nothing}
          </p>
          ${a
            ? a.ok
              ? html`<p class="verdict ok" data-testid="audit-verdict">Chain intact: ${a.summary}</p>`
              : html`<p class="verdict bad" data-testid="audit-verdict">CHAIN BROKEN at seq ${a.seq} (${a.code}): ${a.message}</p>`
            : html`<p>Not checked yet.</p>`}
          ${a ? html`<p class="meta">enclave receipt key <code>${short(a.receiptKey, 24)}</code> (${a.keyPinnedBy})${a.head ? html` · latest signed head #${a.head.seq} ${a.head.ok ? 'signature ok' : html`<b class="bad">signature INVALID</b>`}` : nothing}</p>` : nothing}`}

    <h2>Attestation</h2>
    <p>Paste the attestation root you trust (PEM: AWS Nitro Root-G1 in production, <code>data/sim-pki/SIMULATION-ROOT-NOT-SECURE.pem</code> in simulation). It stays in this browser.</p>
    <textarea rows="4" data-testid="root-pem" .value=${state.rootPem} @input=${(e: Event) => (state.rootPem = (e.target as HTMLTextAreaElement).value)}></textarea>
    <p><button data-testid="check-attestation" @click=${runAttestation}>Fetch and check attestation</button></p>
    ${att
      ? html`<table class="fields" data-testid="attestation">
          <tr><th>verdict</th><td class=${att.verified ? 'ok' : 'bad'}>${att.verdict}</td></tr>
          <tr><th>module</th><td>${att.moduleId}</td></tr>
          <tr><th>document time</th><td>${att.timestamp ? time(att.timestamp) : '?'}</td></tr>
          ${att.pcrs.map(([i, v]) => html`<tr><th>PCR${i}</th><td><code>${v}</code></td></tr>`)}
          <tr><th>policy set hash</th><td><code>${att.policySetHash ?? '?'}</code></td></tr>
          <tr><th>audit head</th><td>${att.auditHead ? html`#${att.auditHead.seq} <code>${short(att.auditHead.hash, 18)}</code>` : '?'}</td></tr>
          <tr><th>receipt key</th><td><code>${short(att.receiptKey, 24)}</code> ${att.receiptKeyMatchesPin === false ? html`<b class="bad">differs from the key pinned for your acts</b>` : nothing}</td></tr>
        </table>`
      : nothing}

    <h2>What this page can and cannot promise</h2>
    <div class="trust" data-testid="trust-statement">
      <p><b>The host cannot act for you.</b> Every change — approve, reject, freeze, revoke, policy — is an EIP-712 message your own wallet shows and signs;
      the enclave checks that signature and the sequence number, and answers with a receipt signed by its attested key, which this page verifies.
      The host holds no owner key and cannot forge, replay or reorder your acts.</p>
      <p><b>What an untrusted host could still do:</b> serve altered page code. Altered code could show you one thing and ask your wallet to sign another,
      hide a pending request, or report a broken audit log as intact. <b>Your wallet's signing prompt is your last check</b>: read the
      <code>primaryType</code> (ResolvePending, FreezeAgent, RevokeAgent, SetPolicy…), the wallet, agent, version and digest before you sign.
      The host can also withhold or delay data (a denial of service), and it sees which wallets you read.</p>
      <p><b>Run the console from a copy you control</b> so that no host serves its code: in a clone of bursar,
      <code>make console</code> builds <code>dist/console/</code>; serve that folder on your own machine
      (<code>npx vite preview --outDir dist/console --port 5173</code> or <code>python3 -m http.server -d dist/console 5173</code>) and open
      <code>http://localhost:5173/?host=https://your-bursar-host</code>. The host must allow that origin (<code>BURSAR_CORS_ORIGINS</code>; <code>make sim</code> allows any).</p>
    </div>
  </section>`
}

// ---------------------------------------------------------------- charts

const drawn = new Map<string, string>()
function drawCharts(): void {
  if (state.tab !== 'wallets') {
    drawn.clear()
    return
  }
  const now = Date.now()
  for (const w of state.wallets)
    for (const a of w.agents) {
      if (!a.policy) continue
      let policy: Policy
      try {
        policy = JSON.parse(a.policy.json) as Policy
      } catch {
        continue
      }
      const views = budgetViews(policy, state.entries.filter((e) => e.agentId === a.agentId), now)
      views.forEach((b, i) => {
        const el = document.getElementById(`chart-${a.agentId}-${i}`)
        if (!el) return
        const key = `${b.points.length}:${b.rolling}:${a.policy?.hash}`
        if (drawn.get(el.id) === key && el.childElementCount > 0) return
        drawn.set(el.id, key)
        drawBudgetChart(el, b, now)
      })
    }
}

window.addEventListener('hashchange', () => {
  routeFromHash()
  update()
})
routeFromHash()
update()
void refresh()
setInterval(() => {
  if (!state.busy && !state.editor) void refresh()
}, 4_000)
