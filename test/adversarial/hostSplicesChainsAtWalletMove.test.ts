import { describe, expect, it } from 'vitest'
import { parseAuditJsonl, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { verifyAuditJsonl } from '../../shared/audit/verifyAuditJsonl.js'
import { verifyWalletThread } from '../../shared/audit/verifyWalletThread.js'
import { CHAIN_B, type ChainLog, multiChainAuditLog, oneWalletJsonl, WALLET_W } from '../helpers/multiChainAuditLog.js'

/**
 * Attack (issue 15 step 4): the host splices the chains where wallet W moved — it cuts a chain at W's wallet_dropped
 * (that entry and everything after it, with their checkpoints: the cut chain is still a self-consistent, signed
 * prefix), or leaves out the chain W stayed in meanwhile, or W's run there, so W's history in between disappears.
 * Defined outcome: the run in the next chain no longer begins right after the one before (its wallet_loaded's
 * walletPrev names an entry no chain of the export holds): `audit_thread_broken` at that entry, naming its chain.
 */
describe('hostSplicesChainsAtWalletMove', () => {
  const log = multiChainAuditLog()
  const key = log.publicKeyHex
  const cutAt = (c: ChainLog, seq: number): ChainLog => ({ ...c, entries: c.entries.slice(0, seq), hashes: c.hashes.slice(0, seq), checkpoints: c.checkpoints.filter((cp) => cp.seq < seq) })
  const dropped = (c: ChainLog) => c.entries.findIndex((e) => e.event === 'wallet_dropped' && e.wallet === WALLET_W)
  const loaded = (c: ChainLog) => c.entries.find((e) => e.event === 'wallet_loaded' && e.wallet === WALLET_W)!.seq
  const both = (text: string) => {
    const ref = verifyAuditLog({ ...parseAuditJsonl(text), publicKey: key })
    expect(verifyAuditJsonl({ jsonl: text, publicKey: key })).toEqual(ref)
    return ref
  }

  it('the root chain cut at W\'s wallet_dropped: still signed alone, broken at chain B\'s wallet_loaded', () => {
    const root = cutAt(log.root, dropped(log.root))
    expect(verifyAuditLog({ ...root, publicKey: key })).toMatchObject({ ok: true })
    expect(both(toAuditJsonl({ ...root, chains: [log.b] }))).toMatchObject({ ok: false, code: 'audit_thread_broken', chain: CHAIN_B, seq: loaded(log.b) })
  })

  it("chain B cut at W's wallet_dropped: broken at the root's wallet_loaded (W's return)", () => {
    expect(both(toAuditJsonl({ ...log.root, chains: [cutAt(log.b, dropped(log.b))] }))).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: loaded(log.root) })
  })

  it('chain B left out, or W\'s run in it left out of a one-wallet export: broken', () => {
    // Without chain B the root chain alone has W jump from walletSeq 4 to 10.
    expect(both(toAuditJsonl(log.root))).toMatchObject({ ok: false, code: 'audit_thread_broken', seq: loaded(log.root) })
    const lines = oneWalletJsonl(log, WALLET_W).trimEnd().split('\n')
    const h = lines.findIndex((l) => l.includes(`"chain":"${CHAIN_B}","type":"chain"`))
    const back = lines.findIndex((l) => l === '{"chain":"","type":"chain"}')
    const spliced = [...lines.slice(0, h), ...lines.slice(back + 1)].join('\n')
    expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(spliced), publicKey: key })).toMatchObject({ ok: false, code: 'audit_thread_broken' })
    expect(verifyWalletThread({ wallet: WALLET_W, ...parseAuditJsonl(lines.join('\n')), publicKey: key })).toMatchObject({ ok: true })
  })
})
