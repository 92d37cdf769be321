import { describe, expect, it } from 'vitest'
import { type PaymentsPage as Page, lyingPaymentsHost as lyingHost } from '../helpers/lyingPaymentsHost.js'
import { PAYMENTS_MAX_PAGES, readAgentPayments } from '../../agent/agentRead.js'
import { generateAgentKey } from '../../agent/generateAgentKey.js'

/** Any wallet address: the lying host serves every one alike. */
const WALLET = '0x00000000000000000000000000000000000000aa' as const

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code)

/**
 * Attack (limits41): the agent SDK's payment history follows the host's `next` cursor (audit40: a page may be empty
 * and still have one). A lying host answers empty pages without end: a cursor that moves down by one seq every time
 * from 2^53, or below zero. The SDK checked only that the cursor moved, so it read on forever (one signed read each,
 * 2^53 of them). Safe behaviour: a cursor must be a seq (≥ 0) below the last (else `response_invalid`), and at most
 * `maxPages` reads (default PAYMENTS_MAX_PAGES = 100), then `payments_page_limit`; an honest host's short and empty
 * pages are still followed to the entries past them.
 */
describe('adversarial: a host pages an agent\'s payments without end (limits41)', () => {
  it('empty pages whose cursor creeps down one seq at a time: payments_page_limit after exactly maxPages reads', async () => {
    const host = await lyingHost((before) => ({ entries: [], next: (before ?? 2 ** 53) - 1 }))
    try {
      const read = (maxPages?: number) => readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 10, maxPages })
      expect(await codeOf(read())).toBe('payments_page_limit')
      expect(host.reads()).toBe(PAYMENTS_MAX_PAGES)
      expect(PAYMENTS_MAX_PAGES).toBe(100)
      expect(await codeOf(read(5))).toBe('payments_page_limit')
      expect(host.reads()).toBe(PAYMENTS_MAX_PAGES + 5)
    } finally {
      host.close()
    }
  })

  it('a cursor below zero (seqs start at 0) is response_invalid at once', async () => {
    const host = await lyingHost((before) => ({ entries: [], next: before === null ? -1 : before - 1 }))
    try {
      expect(await codeOf(readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 10 }))).toBe('response_invalid')
      expect(host.reads()).toBe(1)
    } finally {
      host.close()
    }
  })

  it('honest: short and empty pages (the host\'s row budget) are followed to every entry, within the page cap', async () => {
    // The agent's entries at these seqs of the wallet; the host reads 1,000 of the wallet's seqs per page, newest first.
    const seqs = [9_990, 9_980, ...Array.from({ length: 25 }, (_, i) => 240 - 10 * i)]
    const host = await lyingHost((before, agentId) => {
      const top = before ?? 10_000
      const low = Math.max(0, top - 1_000)
      return { entries: seqs.filter((s) => s >= low && s < top).map((seq) => ({ seq, agentId })), next: low > 0 ? low : null }
    })
    try {
      const r = await readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 100 })
      expect(r.entries.map((e) => e.seq)).toEqual(seqs)
      expect(host.reads()).toBe(10)
      // The same history with a cap below the pages it needs: the typed error, not a silent short answer.
      expect(await codeOf(readAgentPayments({ host: host.url, agentKey: generateAgentKey(), wallet: WALLET, limit: 100, maxPages: 9 }))).toBe('payments_page_limit')
    } finally {
      host.close()
    }
  })
})
