/**
 * A wallet's governance (issue 19, enforced in the enclave): its owners, the m-of-n threshold per class of act and
 * the loosening delay; acts waiting for more owners' signatures (who has signed, co-sign); widening policy acts
 * waiting out the delay (what they widen, when they apply, cancel). Co-sign and cancel are owner acts signed in the
 * wallet through OwnerClient (cosign re-hashes the listed message and its policy before signing).
 */
import { type TemplateResult, html, nothing } from 'lit'
import type { WalletInfo } from '../../../shared/protocol/messages.js'
import { proposalDetail } from '../proposalDetail.js'
import { act, short, state, time } from '../store.js'

export function governanceView(w: WalletInfo): TemplateResult {
  const me = state.session?.address.toLowerCase() ?? ''
  const g = w.governance
  const n = g.owners.length
  const you = (a: string) => (a.toLowerCase() === me ? html` <b>(you)</b>` : nothing)
  const waiting = w.proposals.length + w.scheduled.length
  return html`<details class="more" data-testid="governance" ?open=${waiting > 0}>
    <summary>Governance <span class="meta">${n} owner(s)${g.delaySeconds ? `, loosening waits ${g.delaySeconds} s` : ''}${waiting ? `, ${waiting} waiting` : ''}</span></summary>
    <h4>Owners</h4>
    <ul data-testid="gov-owners">${g.owners.map((o) => html`<li><code>${o}</code>${you(o)}</li>`)}</ul>
    <h4>Signatures needed</h4>
    <table data-testid="gov-thresholds">
      <tr>${Object.keys(g.thresholds).map((k) => html`<th>${k}</th>`)}<th>loosening delay</th></tr>
      <tr>${Object.values(g.thresholds).map((m) => html`<td>${m} of ${n}</td>`)}<td>${g.delaySeconds ? `${g.delaySeconds} s` : 'none'}</td></tr>
    </table>
    <h4>Waiting for more signatures (${w.proposals.length})</h4>
    ${w.proposals.length
      ? html`<table data-testid="gov-proposals">
          <tr><th>act</th><th>class</th><th>signed by</th><th>needs</th><th>expires</th><th></th></tr>
          ${w.proposals.map((p) => {
            const signed = p.signers.some((x) => x.toLowerCase() === me)
            // SECURITY: what the co-signature would apply, bound to the act hash, shown before signing (the wallet
            // prompt shows only a policy hash for a policy act).
            const d = proposalDetail(w, p)
            return html`<tr data-testid="gov-proposal" data-act-hash=${p.actHash}>
              <td>${p.act} <code title=${p.actHash}>${short(p.actHash, 10)}</code></td><td>${p.actClass}</td>
              <td>${p.signers.map((x) => html`<code>${short(x, 8)}</code>${you(x)} `)}</td>
              <td>${p.signers.length} of ${p.threshold}</td><td>${time(p.expiresAt)}</td>
              <td>${signed
                ? html`<span class="meta">you signed</span>`
                : html`<button data-testid="gov-cosign" ?disabled=${!!state.busy || !d.ok} @click=${() => act(`Co-sign ${p.act}`, (s) => s.client.cosign(w.address, p.actHash))}>Co-sign</button>`}</td>
            </tr>
            <tr data-testid="gov-proposal-detail" data-act-hash=${p.actHash}><td colspan="6">${d.ok
              ? html`${d.fields.map(([k, v]) => html`<code>${k}: ${short(v, 42)}</code> `)}${d.changes
                  ? html`<pre class="diff" data-testid="gov-proposal-diff">${d.changes.map((c) => html`<span class=${c.op === '+' ? 'add' : 'del'}>${c.op} ${c.text}\n</span>`)}</pre>`
                  : nothing}`
              : html`<b class="bad" data-testid="gov-proposal-mismatch">${d.reason}</b>`}</td></tr>`
          })}
        </table>`
      : html`<p class="meta">none</p>`}
    <h4>Scheduled (time-locked) acts (${w.scheduled.length})</h4>
    ${w.scheduled.length
      ? html`<table data-testid="gov-scheduled">
          <tr><th>policy</th><th>widens</th><th>scheduled</th><th>takes effect</th><th></th></tr>
          ${w.scheduled.map(
            (x) => html`<tr data-testid="gov-scheduled-act" data-act-hash=${x.actHash}>
              <td>${x.agentId ? html`agent <code>${short(x.agentId, 12)}</code>` : 'wallet policy'} v${x.version}</td>
              <td>${x.widens.join(', ')}</td><td>${time(x.scheduledAt)}</td><td>${time(x.effectiveAt)}</td>
              <td><button class="danger" data-testid="gov-cancel" ?disabled=${!!state.busy}
                @click=${() => act(`Cancel ${short(x.actHash, 10)}`, (s) => s.client.act('CancelScheduled', w.address, { actHash: x.actHash.toLowerCase() }))}>Cancel (sign)</button></td>
            </tr>`,
          )}
        </table>`
      : html`<p class="meta">none</p>`}
  </details>`
}
