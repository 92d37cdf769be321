import { randomBytes } from 'node:crypto'
import { type Hex, getAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { MERCHANT, OTHER_PAYEE, TOKEN, eip3009, paymentPolicy, postSign, signedBody, verifyEip3009 } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n

/** `a` with its hex letters upper-cased (0x kept): the same address, another input string. */
const upper = (a: string) => `0x${a.slice(2).toUpperCase()}` as Hex
/** `a` with the hex digit at `i` (0-39) changed: another address, one digit away. */
const nearMiss = (a: string, i: number) => `0x${a.slice(2, 2 + i)}${((Number.parseInt(a[2 + i]!, 16) + 1) % 16).toString(16)}${a.slice(3 + i)}` as Hex

/**
 * Red team rt37b on cpu37's address cache (core/decode/checksummed.ts: decodeEip3009's asset, payTo and from through a
 * 1,024-entry Map of inputs already seen, cleared when full). Attack as an agent: fill the cache past its clear with
 * payees of its choosing (each request denied, each still decoded), interleaving the allowed payee and another one in
 * every spelling (lower case, checksummed, upper case) and the asset in lower case, so that an entry left by one input
 * is read for another: a denied payee allowed, or an allowed payment audited / signed for another payee or asset.
 * Each answer must hold: MERCHANT (any spelling) signed, its entry naming MERCHANT and TOKEN checksummed and the
 * signature over the authorization as sent (viem's verifyTypedData); OTHER_PAYEE and the churn payees never signed.
 */
describe('adversarial: an agent churns the address cache to read one payee as another (cpu37)', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 1_000n).toString() }))

  const pay = async (to: Hex, asset: Hex = TOKEN) => {
    const op = eip3009({ wallet: s.wallet, value: AMOUNT, to })
    op.typedData.domain.verifyingContract = asset
    const r = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op }))
    return { ...r, op }
  }

  it('1,100 churn payees, the allowed and the denied payee in every spelling between them: each read as itself', async () => {
    const spell = [(a: Hex) => a.toLowerCase() as Hex, (a: Hex) => getAddress(a), upper]
    let signed = 0
    for (let round = 0; round < 11; round++) {
      // 100 fresh payees (a cache miss each: 11 rounds pass the 1,024 clear), 8 at a time.
      // With them, near misses of both payees (one digit away, first or last, in each spelling): a cache keyed on less
      // than the whole input would read one for the other.
      const near = [MERCHANT, OTHER_PAYEE].flatMap((a) => [0, 39, round].flatMap((i) => [nearMiss(a, i), upper(nearMiss(a, i)), nearMiss(a, i).toLowerCase() as Hex]))
      const churn = [...near, ...Array.from({ length: 100 - near.length }, () => `0x${randomBytes(20).toString('hex')}` as Hex)]
      for (let i = 0; i < churn.length; i += 8) {
        for (const r of await Promise.all(churn.slice(i, i + 8).map((to) => pay(to)))) expect(r.json.signature, JSON.stringify(r.json)).toBeUndefined()
      }
      for (const sp of spell) {
        const denied = await pay(sp(OTHER_PAYEE))
        expect(denied.json.signature, JSON.stringify(denied.json)).toBeUndefined()
        const ok = await pay(sp(MERCHANT), round % 2 ? (TOKEN.toLowerCase() as Hex) : TOKEN)
        expect(ok.status, JSON.stringify(ok.json)).toBe(200)
        const entry = ok.json.auditEntry as AuditEntry & { action?: { payTo?: string; asset?: string } }
        expect(JSON.stringify(entry)).toContain(MERCHANT)
        expect(JSON.stringify(entry)).toContain(TOKEN)
        expect(JSON.stringify(entry)).not.toContain(getAddress(OTHER_PAYEE))
        // The same authorization, its addresses in lower case (viem refuses an upper-case spelling's checksum).
        const m = ok.op.typedData.message as Record<string, string>
        const asSent = { ...ok.op, typedData: { ...ok.op.typedData, domain: { ...ok.op.typedData.domain, verifyingContract: TOKEN }, message: { ...m, to: m.to!.toLowerCase() } } }
        expect(await verifyEip3009(s.wallet, asSent, ok.json.signature as Hex)).toBe(true)
        signed++
      }
    }
    expect(signed).toBe(33)
  }, 240_000)
})
