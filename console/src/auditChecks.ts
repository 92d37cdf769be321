/**
 * The Audit & trust tab's checks, run in the browser with the shared verifiers: the hash chain and the
 * enclave-signed checkpoints (verifyAuditLog for the whole log, verifyAuditSlice for an owner's wallets), the
 * latest signed head, and the attestation document against a root the owner pastes (verifyAttestation).
 */
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { unsafeParseAttestationDoc } from '../../shared/attestation/unsafeParseAttestationDoc.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import type { AuditCheckpoint, AuditEntry } from '../../shared/audit/auditEntry.js'
import { toEd25519PublicKey } from '../../shared/audit/toEd25519PublicKey.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditSlice } from '../../shared/audit/verifyAuditSlice.js'
import { byChain, type ServedAuditEntry, splitServedEntries } from '../../shared/audit/servedAuditEntry.js'
import type { OwnerSession } from './ownerSession.js'

export type AuditCheck = {
  checkedAt: number
  scope: string
  receiptKey: string
  keyPinnedBy: string
  head: { seq: number; ok: boolean } | null
} & ({ ok: true; summary: string; unvouched?: string[] } | { ok: false; code: string; seq: number; message: string })

type Stored = ServedAuditEntry

export async function verifyOwnerAudit(p: { session: OwnerSession; scope: string; entries: Stored[]; checkpoints: AuditCheckpoint[] }): Promise<AuditCheck> {
  const receiptKey = await p.session.client.receiptKey()
  const keyPinnedBy = p.session.client.marks.host(p.session.client.host)?.pinnedBy === 'attestation' ? 'verified by attestation' : 'pinned on first use'
  const base = { checkedAt: Date.now(), scope: p.scope, receiptKey, keyPinnedBy }
  // `mac` is the enclave's private replay authenticator, `hash` the host's record, `auditChain` the host's label of
  // the entry's chain (chains41): none is part of the entry.
  const { entries, hashes, chains } = splitServedEntries(p.entries)
  const head = await latestHead(p.session.client.host, receiptKey)
  try {
    if (p.scope === 'all') {
      // chains41: each chain verified whole, from its own genesis, under its own checkpoints (a cluster's chains share seqs).
      const r = verifyAuditLog({ ...byChain(entries, hashes, chains, p.checkpoints), publicKey: receiptKey })
      if (!r.ok) return { ...base, head, ok: false, code: r.code, seq: r.seq, message: r.chain ? `chain ${r.chain}: ${r.message}` : r.message }
      const others = r.chains?.length ? ` (and ${r.chains.length} other chain${r.chains.length === 1 ? '' : 's'}: ${r.chains.map((c) => `${c.count} entries, signed through #${c.signedHead?.seq ?? '-'}`).join('; ')})` : ''
      return { ...base, head, ok: true, summary: `${r.count} entries linked from genesis to #${r.head.seq}; signed by the enclave through #${r.signedHead?.seq ?? '-'}${others}` }
    }
    // Every page from the start: each wallet's thread must be whole across the chains (complete).
    const r = verifyAuditSlice({ entries, hashes, chains, checkpoints: p.checkpoints, publicKey: receiptKey, complete: true })
    if (!r.ok) return { ...base, head, ok: false, code: r.code, seq: r.seq, message: r.message }
    // SECURITY: only what an enclave signature reaches (a checkpoint at its seq, or a link to such an entry) is
    // verified; the host serves the recorded hashes and chooses which checkpoints to serve.
    const hashed = hashes.filter((h) => h !== undefined).length
    return {
      ...base,
      head,
      ok: true,
      unvouched: r.unvouched.map((seq, i) => (r.unvouchedChains[i] ? `${seq} of chain ${r.unvouchedChains[i]}` : String(seq))),
      summary: `${r.count - r.unvouched.length} of ${r.count} entries vouched for by the enclave (${r.signed} under a signed checkpoint, ${r.linked} linked to their predecessor); ${hashed} recorded hashes match`,
    }
  } catch (err) {
    return { ...base, head, ok: false, code: 'audit_unverifiable', seq: -1, message: (err as Error).message }
  }
}

async function latestHead(host: string, key: string): Promise<{ seq: number; ok: boolean } | null> {
  const r = (await fetch(`${host}/v1/audit/head`).then((x) => x.json(), () => null)) as { checkpoint?: AuditCheckpoint | null } | null
  const cp = r?.checkpoint
  if (!cp) return null
  let ok = false
  try {
    ok = verifyAuditCheckpoint(cp, toEd25519PublicKey(key))
  } catch {
    ok = false
  }
  return { seq: cp.seq, ok }
}

export type AttestationView = {
  verified: boolean
  verdict: string
  moduleId: string
  timestamp: number | null
  pcrs: [number, string][]
  policySetHash: string | null
  auditHead: { seq: number; hash: string } | null
  receiptKey: string
  receiptKeyMatchesPin: boolean | null
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/** Fetches a fresh document for a random nonce; verifies it against `rootPem` when given, else only decodes it. */
export async function checkAttestation(p: { host: string; rootPem: string | null; session: OwnerSession | null }): Promise<AttestationView> {
  const nonce = crypto.getRandomValues(new Uint8Array(32))
  const res = (await fetch(`${p.host}/v1/attestation?nonce=${hex(nonce)}`).then((r) => r.json())) as {
    document: string
    userDataInputs: { policySetHash?: string; auditHead?: { seq: number; hash: string } }
    signerPublicKey: string
  }
  const bytes = Uint8Array.from(atob(res.document), (c) => c.charCodeAt(0))
  const receiptKey = `0x${res.signerPublicKey.replace(/^0x/, '').toLowerCase()}`
  const pinned = p.session?.client.marks.host(p.session.client.host)?.receiptPublicKey
  const base = {
    policySetHash: res.userDataInputs.policySetHash ?? null,
    auditHead: res.userDataInputs.auditHead ?? null,
    receiptKey,
    receiptKeyMatchesPin: pinned ? pinned === receiptKey : null,
  }
  const docOf = (d: { moduleId: string; timestamp: number; pcrs: ReadonlyMap<number, Uint8Array> }) => ({
    moduleId: d.moduleId,
    timestamp: d.timestamp,
    pcrs: [...d.pcrs].filter(([i]) => i <= 4 || i === 8).map(([i, v]) => [i, hex(v)] as [number, string]),
  })
  if (!p.rootPem) {
    const d = unsafeParseAttestationDoc(bytes).document
    return { ...base, ...docOf(d), verified: false, verdict: 'NOT VERIFIED: paste the root you trust to check the certificate chain, signature, nonce and commitments' }
  }
  try {
    const d = verifyAttestation(bytes, {
      root: p.rootPem,
      maxAgeMs: 300_000,
      allowDebug: true,
      expectedNonce: nonce,
      expectedPublicKey: receiptKey,
      expectedUserData: computeAttestationUserData(res.userDataInputs as Parameters<typeof computeAttestationUserData>[0]),
    })
    const mode = d.debugMode ? ' — DEBUG/SIMULATED enclave (PCR0-2 zero): not production' : ''
    // The attested receipt key now backs the owner's receipts and audit checks (as the CLI's --root); a different
    // key pinned earlier is left alone and flagged above.
    if (p.session && (pinned === undefined || pinned === receiptKey)) {
      p.session.client.marks.pin(p.session.client.host, receiptKey, 'attestation')
      p.session.saveMarks()
    }
    return { ...base, ...docOf(d), verified: true, verdict: `verified against your root: chain, ES384 signature, fresh nonce, receipt key and policy-set/audit-head commitment${mode}` }
  } catch (err) {
    const d = (() => {
      try {
        return docOf(unsafeParseAttestationDoc(bytes).document)
      } catch {
        return { moduleId: '?', timestamp: null, pcrs: [] }
      }
    })()
    const e = err as Error & { code?: string }
    return { ...base, ...d, verified: false, verdict: `REFUSED: ${e.code ?? 'error'}: ${e.message.split('\n')[0]}` }
  }
}
