/**
 * The bursar owner console. Reads with the owner's read token (signed once in the browser wallet), acts with
 * EIP-712 owner acts signed in the same wallet (cli/lib/OwnerClient.ts builds and checks them), and verifies
 * the audit log in the browser with the shared verifiers. The host serves this page but holds no owner key.
 */
import './polyfills.js'
import './styles.css'
import { type TemplateResult, html, nothing, render } from 'lit'
import type { Policy } from '../../shared/schemas/policy.js'
import { drawBudgetChart } from './budgetChart.js'
import { budgetViews } from './spend.js'
import { connect, refresh, routeFromHash, setRenderer, state, update } from './store.js'
import { trustView } from './views/trustView.js'
import { walletsView } from './views/walletView.js'

const app = document.getElementById('app')!
app.replaceChildren()

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
    ${state.host !== location.origin
      ? html`<p class="notice error" data-testid="foreign-host">This page talks to <b>${state.host}</b>, not to ${location.origin} where it was loaded from (<code>?host=</code>).
          Connect only if you chose that host: it will see which wallets you read, and your acts go there (the read token you sign names that host only).</p>`
      : nothing}
    ${state.notice ? html`<p class="notice ${state.notice.kind}" data-testid="notice">${state.notice.text}</p>` : nothing}
    ${state.busy && state.busy !== 'connect' ? html`<p class="busy">${state.busy}: confirm in your wallet…</p>` : nothing}
    <main>${state.tab === 'audit' ? trustView() : walletsView()}</main>
  `
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
setRenderer(() => {
  render(view(), app)
  drawCharts()
})
routeFromHash()
update()
void refresh()
setInterval(() => {
  if (!state.busy && !state.editor) void refresh()
}, 4_000)

