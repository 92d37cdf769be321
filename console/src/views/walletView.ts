/** A wallet: pending approvals with every bound field, its agents, permits, and its approval webhook. */
import { type TemplateResult, html, nothing } from 'lit'
import { canonicalJson } from '../../../shared/canonical/canonicalJson.js'
import { ApprovalSummarySchema, approvalDigest } from '../../../shared/owner/approvalSummary.js'
import { signWebhookSetting } from '../../../shared/owner/webhookSetting.js'
import type { WalletInfo } from '../../../shared/protocol/messages.js'
import { act, short, state, time } from '../store.js'
import { agentView } from './agentView.js'
import { governanceView } from './governanceView.js'
import { editorView } from './policyEditorView.js'

export function walletsView(): TemplateResult {
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
      ? html`<p class="danger" data-testid="rolled-back">This wallet's enclave state was rolled back: it signs nothing until you resync.
          <button data-testid="resync" ?disabled=${!!state.busy} @click=${() => act('Resync', (s) => s.client.resync(w.address))}>Resync (sign)</button></p>`
      : nothing}
    ${open.length ? html`<h3>Waiting for you (${open.length})</h3>${open.map((p) => pendingView(w, p))}` : nothing}
    ${w.agents.map((a) => agentView(w, a))}
    ${governanceView(w)}
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
  // What the wallet signs is the digest of exactly this summary (not of a second fetch).
  const shown = { digest: String(p.digest ?? ''), summary: p.summary as Record<string, unknown> }
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
      @click=${() => act(`Approve ${id}`, (s) => s.client.resolvePending(w.address, id, true, shown))}>Approve (sign)</button>
    <button data-testid="reject" ?disabled=${!!state.busy}
      @click=${() => act(`Reject ${id}`, (s) => s.client.resolvePending(w.address, id, false, shown))}>Reject (sign)</button>
  </div>`
}
