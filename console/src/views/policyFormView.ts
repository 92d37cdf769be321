/**
 * The policy form: the common fields (caps per asset, payees, kinds, validity, what happens over a cap) edited as
 * inputs. It is a view of the editor's YAML, not a second copy: every change parses the current text, sets one
 * field and writes the text back with the editor's own serializer (policyYaml), so the form and the YAML round-trip
 * to the same text, every field the form does not show is kept as it is, and the same schema check, diff, dry run
 * and signing follow (policyEditorView.ts).
 */
import { type TemplateResult, html, nothing } from 'lit'
import { formatUnits, parseUnits } from 'viem'
import YAML from 'yaml'
import { ACTION_KINDS } from '../../../shared/schemas/decodedAction.js'
import { type Editor, state, update } from '../store.js'

type Obj = Record<string, unknown>
type Cap = { chainId?: unknown; asset?: unknown; perTx?: unknown; rolling24h?: unknown; calendarDay?: unknown }
type Token = { chainId?: unknown; asset?: unknown; decimals?: unknown; symbol?: unknown; name?: unknown }
const CAP_FIELDS = [
  ['perTx', 'per payment'],
  ['rolling24h', 'rolling 24 h'],
  ['calendarDay', 'calendar day'],
] as const

/** The editor text as an object, or why the form cannot show it. */
export function formModel(text: string): { ok: true; p: Obj } | { ok: false; why: string } {
  try {
    const p = YAML.parse(text) as unknown
    if (!p || typeof p !== 'object' || Array.isArray(p)) return { ok: false, why: 'the YAML is not a mapping' }
    return { ok: true, p: p as Obj }
  } catch (err) {
    return { ok: false, why: `the YAML does not parse (${(err as Error).message.split('\n')[0]})` }
  }
}

/** The form's own last complaint (cleared by the next good edit). */
let formNotice: { kind: 'error'; text: string } | null = null

/** Parses, applies `change`, writes the YAML back through `serialize` (the editor's canonical form). */
function edit(ed: Editor, serialize: (p: Obj) => string, change: (p: Obj) => string | undefined): void {
  const m = formModel(ed.text)
  if (!m.ok) return
  const problem = change(m.p)
  if (formNotice && state.notice === formNotice) state.notice = null
  if (problem) {
    formNotice = { kind: 'error', text: problem }
    state.notice = formNotice
    update()
    return
  }
  ed.text = serialize(m.p)
  update()
}

const tokenOf = (p: Obj, c: Cap): Token | undefined =>
  (Array.isArray(p.tokens) ? (p.tokens as Token[]) : []).find(
    (t) => t.chainId === c.chainId && String(t.asset).toLowerCase() === String(c.asset).toLowerCase(),
  )
const decimalsOf = (t: Token | undefined) => (typeof t?.decimals === 'number' ? t.decimals : null)
const unitOf = (t: Token | undefined) => (typeof t?.symbol === 'string' ? t.symbol : typeof t?.name === 'string' ? t.name : 'base units')

/** A stored base-unit amount in the token's units (as typed), or as it is when it is not a base-unit integer. */
function shown(v: unknown, decimals: number | null): string {
  if (v === undefined || v === null) return ''
  const s = String(v)
  if (decimals === null || !/^(0|[1-9][0-9]*)$/.test(s)) return s
  return formatUnits(BigInt(s), decimals)
}

/** Typed amount (token units) → base units; '' clears the field. */
function toBase(typed: string, decimals: number | null, what: string): { ok: true; v: string | undefined } | { ok: false; why: string } {
  const t = typed.trim().replace(/_/g, '')
  if (t === '') return { ok: true, v: undefined }
  if (decimals === null) return /^(0|[1-9][0-9]*)$/.test(t) ? { ok: true, v: t } : { ok: false, why: `${what}: "${typed}" is not a whole number of base units` }
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t)) return { ok: false, why: `${what}: "${typed}" is not an amount` }
  const frac = t.split('.')[1] ?? ''
  if (frac.length > decimals) return { ok: false, why: `${what}: "${typed}" has more than ${decimals} decimals` }
  return { ok: true, v: parseUnits(t, decimals).toString() }
}

const lines = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean)

export function policyForm(ed: Editor, serialize: (p: Obj) => string): TemplateResult {
  const m = formModel(ed.text)
  if (!m.ok) return html`<p class="bad" data-testid="policy-form-off">The form needs valid YAML: ${m.why}. Fix it in the YAML tab.</p>`
  const p = m.p
  const budgets = (Array.isArray(p.budgets) ? p.budgets : []) as Cap[]
  const rules = (Array.isArray(p.rules) ? p.rules : []) as Obj[]
  const tokens = (Array.isArray(p.tokens) ? p.tokens : []) as Token[]
  const unbudgeted = tokens.filter((t) => !budgets.some((b) => b.chainId === t.chainId && String(b.asset).toLowerCase() === String(t.asset).toLowerCase()))
  const on = (change: (p: Obj) => string | undefined) => (e: Event) => {
    e.preventDefault()
    edit(ed, serialize, change)
  }
  const val = (e: Event) => (e.target as HTMLInputElement).value
  const expires = typeof p.expiresAt === 'number' ? new Date(p.expiresAt).toISOString().slice(0, 16) : ''
  return html`<div class="policy-form" data-testid="policy-form">
    <fieldset>
      <legend>Policy</legend>
      <label>version <input type="number" min="1" data-testid="form-version" .value=${String(p.version ?? '')}
        @change=${(e: Event) => edit(ed, serialize, (q) => ((q.version = Number(val(e))), undefined))}></label>
      <label>time zone <input data-testid="form-timezone" .value=${String(p.timeZone ?? '')}
        @change=${(e: Event) => edit(ed, serialize, (q) => ((q.timeZone = val(e).trim()), undefined))}></label>
      <label>valid until (UTC) <input type="datetime-local" data-testid="form-expires" .value=${expires}
        @change=${(e: Event) =>
          edit(ed, serialize, (q) => {
            const v = val(e)
            if (!v) delete q.expiresAt
            else q.expiresAt = Date.parse(`${v}:00Z`)
            return Number.isNaN(q.expiresAt) ? 'valid until: not a date' : undefined
          })}></label>
      <label>approval wait (s) <input type="number" min="30" data-testid="form-pending-ttl" .value=${String(p.pendingTtlSeconds ?? '')} placeholder="900"
        @change=${(e: Event) =>
          edit(ed, serialize, (q) => {
            const v = val(e).trim()
            if (!v) delete q.pendingTtlSeconds
            else q.pendingTtlSeconds = Number(v)
            return undefined
          })}></label>
    </fieldset>
    <fieldset>
      <legend>Caps per asset <small>(every spend; in the token's units, empty = no such cap)</small></legend>
      <table>
        <tr><th>asset</th>${CAP_FIELDS.map(([, label]) => html`<th>${label}</th>`)}<th></th></tr>
        ${budgets.map((b, i) => {
          const t = tokenOf(p, b)
          const d = decimalsOf(t)
          return html`<tr data-testid="form-budget">
            <td><code title=${String(b.asset)}>${unitOf(t)}</code> <small>chain ${String(b.chainId)}</small></td>
            ${CAP_FIELDS.map(
              ([k, label]) => html`<td><input size="10" data-testid=${`form-budget-${i}-${k}`} .value=${shown(b[k], d)}
                @change=${(e: Event) =>
                  edit(ed, serialize, (q) => {
                    const r = toBase(val(e), d, `${unitOf(t)} ${label} cap`)
                    if (!r.ok) return r.why
                    const cap = (q.budgets as Cap[])[i]!
                    if (r.v === undefined) delete cap[k]
                    else cap[k] = r.v
                    return undefined
                  })}></td>`,
            )}
            <td><button data-testid=${`form-budget-${i}-remove`} @click=${on((q) => ((q.budgets as Cap[]).splice(i, 1), undefined))}>remove</button></td>
          </tr>`
        })}
      </table>
      ${unbudgeted.length
        ? html`<p>${unbudgeted.map(
            (t) => html`<button data-testid="form-budget-add" @click=${on((q) => {
              q.budgets = [...((q.budgets as Cap[] | undefined) ?? []), { chainId: t.chainId, asset: t.asset, rolling24h: '0' }]
              return undefined
            })}>+ cap for ${unitOf(t)} (chain ${String(t.chainId)})</button> `,
          )}</p>`
        : nothing}
    </fieldset>
    ${rules.map((r, i) => ruleForm(ed, serialize, r, i))}
    <p class="meta">Other fields (hosts, time windows, rule caps, pre-approvals, risk controls…) are kept as they are: edit them in the YAML tab.</p>
  </div>`
}

function ruleForm(ed: Editor, serialize: (p: Obj) => string, r: Obj, i: number): TemplateResult {
  const val = (e: Event) => (e.target as HTMLInputElement).value
  const rule = (q: Obj) => (q.rules as Obj[])[i]!
  if (r.effect !== 'allow')
    return html`<fieldset><legend>Rule <code>${String(r.id)}</code>: ${String(r.effect)}</legend><p class="meta">Deny rules are edited in the YAML tab.</p></fieldset>`
  const kinds = Array.isArray(r.kinds) ? (r.kinds as string[]) : []
  const payTo = r.payTo as { in?: string[]; notIn?: string[] } | undefined
  const payeesEditable = !payTo || Array.isArray(payTo.in)
  return html`<fieldset data-testid=${`form-rule-${i}`}>
    <legend>Allow rule <code>${String(r.id)}</code></legend>
    <div class="kinds">kinds:
      ${ACTION_KINDS.map(
        (k) => html`<label><input type="checkbox" data-testid=${`form-rule-${i}-kind-${k}`} .checked=${kinds.includes(k)}
          @change=${(e: Event) =>
            edit(ed, serialize, (q) => {
              const on = (e.target as HTMLInputElement).checked
              const cur = (rule(q).kinds as string[] | undefined) ?? []
              // In ACTION_KINDS order, so toggling twice gives back the same YAML.
              rule(q).kinds = ACTION_KINDS.filter((x) => (x === k ? on : cur.includes(x)))
              return undefined
            })}>${k}</label>`,
      )}
    </div>
    <label>payees (pay-to allowlist, one address a line; empty = any)
      ${payeesEditable
        ? html`<textarea rows="3" data-testid=${`form-rule-${i}-payees`} .value=${(payTo?.in ?? []).join('\n')}
            @change=${(e: Event) =>
              edit(ed, serialize, (q) => {
                const list = lines(val(e))
                if (list.length) rule(q).payTo = { in: list }
                else delete rule(q).payTo
                return undefined
              })}></textarea>`
        : html`<span class="meta">a notIn list: edit it in the YAML tab</span>`}</label>
    <label>longest validity (s) <input type="number" min="1" data-testid=${`form-rule-${i}-validity`} .value=${String(r.maxValiditySeconds ?? '')}
      @change=${(e: Event) =>
        edit(ed, serialize, (q) => {
          const v = val(e).trim()
          if (!v) delete rule(q).maxValiditySeconds
          else rule(q).maxValiditySeconds = Number(v)
          return undefined
        })}></label>
    <label>over this rule's caps or limits
      <select data-testid=${`form-rule-${i}-on-violation`} .value=${String(r.onViolation ?? 'deny')}
        @change=${(e: Event) =>
          edit(ed, serialize, (q) => {
            const v = (e.target as HTMLSelectElement).value
            if (v === 'deny') delete rule(q).onViolation
            else rule(q).onViolation = v
            return undefined
          })}>
        <option value="deny">refuse</option>
        <option value="pending">ask me to approve</option>
      </select></label>
  </fieldset>`
}
