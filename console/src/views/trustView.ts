/** Audit & trust: the chain and checkpoints verified here, the attestation, and what the host could still do. */
import { type TemplateResult, html, nothing } from 'lit'
import { loadOwnerData, runAttestation, runAudit, short, state, time } from '../store.js'

export function trustView(): TemplateResult {
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
              ? html`<p class="verdict ok" data-testid="audit-verdict">Chain intact: ${a.summary}</p>
                  ${a.unvouched?.length
                    ? html`<p class="bad" data-testid="audit-unvouched">NOT VERIFIED: no enclave signature covers seq ${a.unvouched.slice(0, 20).join(', ')}${a.unvouched.length > 20 ? ' …' : ''} (the host could have altered ${a.unvouched.length === 1 ? 'it' : 'them'}; check again after the next signed checkpoint, or verify the full log with the operator)</p>`
                    : nothing}`
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
