/** The policy editor: YAML or a form over it, checked live by the enclave's schema, diff, dry run, sign. */
import { type TemplateResult, html, nothing } from 'lit'
import YAML from 'yaml'
import { checkPolicyText } from '../../../cli/lib/checkPolicyText.js'
import type { WalletInfo } from '../../../shared/protocol/messages.js'
import { type Policy, PolicySchema, policyHash } from '../../../shared/schemas/policy.js'
import { dryRunPolicy } from '../dryRun.js'
import { type DiffLine, diffLines } from '../policyDiff.js'
import { type Agent, type Editor, act, state, time, update } from '../store.js'
import { policyForm } from './policyFormView.js'

/** YAML of a policy without its binding, keys in the schema's order (so the diff shows only real changes). */
function policyYaml(p: Policy | null): string {
  if (!p) return ''
  const parsed = PolicySchema.safeParse(p)
  const { wallet: _w, agentId: _a, ...body } = parsed.success ? parsed.data : p
  return YAML.stringify(body)
}

export function openEditor(w: WalletInfo, a: Agent, current: Policy | null): void {
  const baseline = policyYaml(current)
  const next = current ? { ...current, version: current.version + 1 } : null
  const text = next ? policyYaml(next) : 'version: 1\ntimeZone: UTC\ntokens: []\nbudgets: []\nrules: []\n'
  state.editor = { wallet: w.address, agent: a, text, baseline }
  update()
  document.getElementById('policy-editor')?.scrollIntoView()
}

export function editorView(ed: Editor): TemplateResult {
  const r = checkPolicyText({ text: ed.text, format: 'yaml', wallet: ed.wallet, agentId: ed.agent.agentId, name: 'the policy' })
  const installed = ed.agent.policy?.version ?? 0
  const tooOld = r.ok && r.policy.version <= installed
  const diff = r.ok ? diffLines(ed.baseline, policyYaml(r.policy)) : []
  const hash = r.ok ? policyHash(r.policy) : null
  const dry = r.ok ? dryRunPolicy(r.policy, state.entries.filter((e) => e.agentId === ed.agent.agentId)) : null
  return html`<section class="editor" id="policy-editor" data-testid="policy-editor">
    <h2>Policy for ${ed.agent.label || ed.agent.agentId} <small>(installed: ${installed ? `v${installed}` : 'none'})</small></h2>
    <p class="meta">YAML or the form (the same text underneath), checked as you type with the enclave's own schema. The wallet and agent are bound for you.</p>
    <nav class="modes">
      <button class=${ed.mode !== 'form' ? 'on' : ''} data-testid="policy-mode-yaml" @click=${() => ((ed.mode = 'yaml'), update())}>YAML</button>
      <button class=${ed.mode === 'form' ? 'on' : ''} data-testid="policy-mode-form" @click=${() => ((ed.mode = 'form'), update())}>Form</button>
    </nav>
    ${ed.mode === 'form'
      ? policyForm(ed, (p) => policyYaml({ ...p, wallet: ed.wallet, agentId: ed.agent.agentId } as unknown as Policy))
      : html`<textarea spellcheck="false" rows="22" data-testid="policy-text" .value=${ed.text}
          @input=${(e: Event) => ((ed.text = (e.target as HTMLTextAreaElement).value), update())}></textarea>`}
    ${r.ok
      ? html`<p class="ok" data-testid="policy-valid">Valid policy v${r.policy.version} · hash <code>${hash}</code></p>`
      : html`<ul class="errors" data-testid="policy-errors">
          ${r.issues.map((i) => html`<li>${i.line ? html`line ${i.line}: ` : nothing}<b>${i.path}</b>: ${i.message}</li>`)}
        </ul>`}
    ${tooOld ? html`<p class="bad" data-testid="policy-errors">version ${r.ok ? r.policy.version : ''} is not newer than the installed v${installed}: set <code>version: ${installed + 1}</code></p>` : nothing}
    ${r.ok
      ? html`<h3>Changes against the installed policy</h3>
          <pre class="diff" data-testid="policy-diff">${withContext(diff).map((d) =>
            d === null ? html`<span class="gap">⋯\n</span>` : html`<span class=${d.op === '+' ? 'add' : d.op === '-' ? 'del' : ''}>${d.op} ${d.text}\n</span>`,
          )}</pre>`
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

/** The changed lines with two lines of context each; null marks skipped unchanged lines. */
function withContext(diff: DiffLine[]): (DiffLine | null)[] {
  const keep = diff.map((_d, i) => diff.slice(Math.max(0, i - 2), i + 3).some((x) => x.op !== ' '))
  const out: (DiffLine | null)[] = []
  diff.forEach((d, i) => {
    if (keep[i]) out.push(d)
    else if (out.at(-1) !== null) out.push(null)
  })
  return out
}
