import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runAuditVerify } from '../../cli/commands/audit.js'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { CHAIN_B, multiChainAuditLog, multiChainJsonl, oneWalletJsonl, WALLET_W } from '../helpers/multiChainAuditLog.js'

/**
 * Attack (issue 15 step 4): the host runs two enclaves for one wallet from one state — wallet W is loaded into pair B
 * (its thread head handed over) while the root pair never drops it and keeps signing for it. Each chain alone is an
 * honest, signed hash chain; only the wallet's thread shows the fork: two entries at one walletSeq, in two chains.
 * Defined outcome: `audit_wallet_forked` naming the wallet and both chains, from the whole-log verifier (reference =
 * fast path), the one-wallet verifier and `bursar audit verify` (--file and --wallet). The agents' side (receipts from
 * both enclaves → state_rollback_detected) is agent/receiptMarksChains.test.ts and the Python test_receipt_chains.py.
 */
describe('hostForksWalletAcrossChains', () => {
  const log = multiChainAuditLog({ fork: true })
  const key = log.publicKeyHex

  it('each chain alone verifies; together they are a fork of W', () => {
    expect(verifyAuditLog({ ...log.root, publicKey: key })).toMatchObject({ ok: true })
    const text = multiChainJsonl(log)
    const ref = verifyAuditLog({ ...parseAuditJsonl(text), publicKey: key })
    expect(ref).toMatchObject({ ok: false, code: 'audit_wallet_forked', chain: CHAIN_B })
    expect(verifyAuditJsonl({ jsonl: text, publicKey: key })).toEqual(ref)
    const message = (ref as { message: string }).message
    for (const name of [WALLET_W, 'the root chain', `chain ${CHAIN_B}`]) expect(message).toContain(name)
  })

  it("W's one-wallet export and the CLI say the same", async () => {
    const one = oneWalletJsonl(log, WALLET_W)
    const r = verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(one), publicKey: key })
    expect(r).toMatchObject({ ok: false, code: 'audit_wallet_forked' })
    expect((r as { message: string }).message).toContain(CHAIN_B)
    const dir = mkdtempSync(path.join(tmpdir(), 'bursar-fork-'))
    const whole = path.join(dir, 'whole.jsonl')
    const wallet = path.join(dir, 'wallet.jsonl')
    writeFileSync(whole, multiChainJsonl(log))
    writeFileSync(wallet, one)
    for (const opts of [{ file: whole }, { file: whole, wallet: WALLET_W }, { file: wallet, wallet: WALLET_W }]) {
      const cli = await runAuditVerify({ ...opts, publicKey: key })
      expect(cli.exitCode, JSON.stringify(opts)).toBe(1)
      expect(cli.stdout).toMatch(/^BROKEN at seq \d+ of chain [0-9a-f]{32}: audit_wallet_forked: /)
    }
  })

  it('the honest move (W dropped from the root first) is no fork', () => {
    const honest = multiChainAuditLog()
    expect(verifyAuditJsonl({ jsonl: toAuditJsonl({ ...honest.root, chains: honest.chains }), publicKey: key })).toMatchObject({ ok: true })
    expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(oneWalletJsonl(honest, WALLET_W)), publicKey: key })).toMatchObject({ ok: true, complete: false })
  })
})
