/** One agent: status, policy, spend against its caps, velocity, recent decisions, and its acts. */
import { type TemplateResult, html, nothing } from 'lit'
import type { WalletInfo } from '../../../shared/protocol/messages.js'
import { OwnerActMessageSchemas } from '../../../shared/owner/ownerActTypes.js'
import type { Policy } from '../../../shared/schemas/policy.js'
import { installedPolicy } from '../installedPolicy.js'
import { budgetViews, formatUnits, velocity } from '../spend.js'
import { type Agent, act, short, state, time, update } from '../store.js'
import { openEditor } from './policyEditorView.js'

export function agentView(w: WalletInfo, a: Agent): TemplateResult {
  const now = Date.now()
  const mine = state.entries.filter((e) => e.agentId === a.agentId)
  // SECURITY: the served policy text is the editor's baseline and the permit form's tokens: used only when it is
  // the policy the wallet view hashes and the audit log records (installedPolicy), else editing and permits stay off.
  const installed = installedPolicy(w.address, a, state.entries)
  const policy: Policy | null = installed.ok ? installed.policy : null
  const budgets = policy ? budgetViews(policy, mine, now) : []
  const vel = velocity(mine, now)
  const recent = mine.filter((e) => e.event.startsWith('sign_') || e.event.startsWith('pending_')).slice(-8).reverse()
  const revoked = a.status === 'revoked'
  return html`<article class="agent" data-testid="agent" data-agent=${a.agentId}>
    <h3>${a.label || 'agent'} <code>${a.agentId}</code>
      <span class="badge ${revoked ? 'bad' : a.frozen ? 'warn' : 'ok'}" data-testid="agent-status">${revoked ? 'revoked' : a.frozen ? 'frozen' : 'active'}</span></h3>
    <p class="meta" data-testid="agent-policy">${a.policy ? html`policy v${a.policy.version} <code title=${a.policy.hash}>${short(a.policy.hash, 18)}</code>` : 'no policy: signs nothing'}
      ${installed.ok ? nothing : html`<span class="bad" data-testid="policy-untrusted">policy shown by the host does not check out: ${installed.reason}</span>`}
      · velocity ${vel.minute}/min${policy?.velocity?.perMinute ? ` of ${policy.velocity.perMinute}` : ''}, ${vel.hour}/h${policy?.velocity?.perHour ? ` of ${policy.velocity.perHour}` : ''}</p>
    ${budgets.map(
      (b, i) => html`<div class="budget">
        <div class="chart" id=${`chart-${a.agentId}-${i}`}></div>
        <table class="fields">
          <tr><th>${b.symbol} on chain ${b.chainId}</th><th>cap</th><th>spent${b.credited > 0n ? ' (less credits)' : ''}</th><th>remaining</th></tr>
          ${b.cap.rolling24h !== undefined ? html`<tr><td>rolling 24 h</td><td>${formatUnits(BigInt(b.cap.rolling24h), b.decimals)}</td><td>${formatUnits(b.rolling, b.decimals)}</td><td data-testid="remaining-rolling">${formatUnits(BigInt(b.cap.rolling24h) - b.rolling, b.decimals)}</td></tr>` : nothing}
          ${b.cap.calendarDay !== undefined ? html`<tr><td>calendar day (${policy?.timeZone})</td><td>${formatUnits(BigInt(b.cap.calendarDay), b.decimals)}</td><td>${formatUnits(b.today, b.decimals)}</td><td>${formatUnits(BigInt(b.cap.calendarDay) - b.today, b.decimals)}</td></tr>` : nothing}
          ${b.credited > 0n ? html`<tr><td>credited back by you (rolling 24 h)</td><td></td><td data-testid="credited-rolling">−${formatUnits(b.credited, b.decimals)}</td><td></td></tr>` : nothing}
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
          <button data-testid="edit-policy" ?disabled=${!!state.busy || !installed.ok} @click=${() => openEditor(w, a, policy)}>Edit policy</button>
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
