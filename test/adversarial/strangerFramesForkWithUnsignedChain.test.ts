import { describe, expect, it } from 'vitest'
import { AuditChain } from '../../core/audit/AuditChain.js'
import type { AuditEntryBody } from '../../shared/audit/auditEntry.js'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditBody } from '../../shared/audit/mockAuditLog.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { type ChainLog, CORE_ID, multiChainAuditLog, oneWalletJsonl, WALLET_W } from '../helpers/multiChainAuditLog.js'

/**
 * Attack (stranger or host, issue 15 step 4): framing. `audit_wallet_forked` says two enclaves signed for a wallet
 * from one state, and docs/audit.md calls such an export transferable proof. Anyone holding an honest export can
 * append a chain of their own — chain_started and a W entry at a walletSeq W already has, linked to W's real
 * entry before it, hash-linked correctly but with NO checkpoint (nobody but the enclave can sign one). The verifiers
 * reported it as a fork of W. An unsigned run proves nothing about the enclaves: a fork needs both runs' overlapping
 * entries covered by a signed checkpoint of their chain; otherwise the export is broken (`audit_thread_broken`),
 * not a fork.
 */
describe('adversarial: a stranger frames a wallet fork with a chain nobody signed', () => {
  it('is not reported as audit_wallet_forked (reference, fast path, one-wallet); it is a broken thread', () => {
    const log = multiChainAuditLog()
    // The forger's chain: W's walletSeq 2, linked to W's real walletSeq 1 (root), no checkpoint.
    const w1 = log.root.entries.findIndex((e) => e.wallet === WALLET_W && e.walletSeq === 1)
    const forged = new AuditChain({ signer: () => new Uint8Array(64), chain: 'f0'.repeat(16), core: CORE_ID })
    const x: ChainLog = { chain: 'f0'.repeat(16), entries: [], hashes: [], checkpoints: [] }
    const add = (body: Partial<AuditEntryBody> & Record<string, unknown>) => {
      const { entry, hash } = forged.append({ ...mockAuditBody(900 + x.entries.length), ...body } as AuditEntryBody)
      x.entries.push(entry)
      x.hashes.push(hash)
    }
    add({ verdict: 'info', action: null, signedHash: null, requestId: null, agentId: null, resourceUrl: undefined, ledger: [], event: 'chain_started', wallet: null })
    forged.setThread(WALLET_W, { walletSeq: 1, hash: log.root.hashes[w1] as string })
    add({ wallet: WALLET_W })
    const text = toAuditJsonl({ ...log.root, chains: [...log.chains, x] })
    const ref = verifyAuditLog({ ...parseAuditJsonl(text), publicKey: log.publicKeyHex })
    expect(ref).toMatchObject({ ok: false, code: 'audit_thread_broken', chain: x.chain })
    expect((ref as { message: string }).message).toMatch(/no signed checkpoint|not signed/)
    expect(verifyAuditJsonl({ jsonl: text, publicKey: log.publicKeyHex })).toEqual(ref)
    // W's one-wallet export with the forged run: the same.
    const one = verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(oneWalletJsonl({ root: log.root, chains: [...log.chains, x] }, WALLET_W)), publicKey: log.publicKeyHex })
    expect(one).toMatchObject({ ok: false, code: 'audit_thread_broken', chain: x.chain })
    expect((one as { message: string }).message).toMatch(/not signed/)
    // The honest fork (both runs signed) stays a fork, in both verifiers.
    const fork = multiChainAuditLog({ fork: true })
    expect(verifyAuditLog({ ...parseAuditJsonl(toAuditJsonl({ ...fork.root, chains: fork.chains })), publicKey: fork.publicKeyHex })).toMatchObject({ ok: false, code: 'audit_wallet_forked' })
    expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(oneWalletJsonl(fork, WALLET_W)), publicKey: fork.publicKeyHex })).toMatchObject({ ok: false, code: 'audit_wallet_forked' })
  })
})
