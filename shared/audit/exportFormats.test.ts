import { describe, expect, it } from 'vitest'
import type { AuditEntry } from './auditEntry.js'
import { parseAuditCsv, parseAuditJsonl, toAuditCsv, toAuditJsonl } from './exportFormats.js'
import { mockAuditLog } from './mockAuditLog.js'
import { verifyAuditLog } from './verifyAuditLog.js'

describe('JSONL export', () => {
  it('round-trips entries, hashes and checkpoints, interleaved for streaming, and still verifies', () => {
    const log = mockAuditLog({ n: 12, checkpointEvery: 4 })
    const text = toAuditJsonl(log)
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; seq: number })
    expect(lines.map((l) => `${l.type[0]}${l.seq}`).slice(0, 6)).toEqual(['e0', 'e1', 'e2', 'e3', 'c3', 'e4'])
    const parsed = parseAuditJsonl(text)
    expect(parsed.entries).toEqual(log.entries)
    expect(parsed.hashes).toEqual(log.hashes)
    expect(parsed.checkpoints).toEqual(log.checkpoints)
    expect(verifyAuditLog({ ...parsed, publicKey: log.publicKeyHex }).ok).toBe(true)
    expect(parseAuditJsonl(text.replaceAll('\n', '\r\n') + '\n\n').entries).toHaveLength(12)
  })

  it('names the line of a malformed export', () => {
    const text = toAuditJsonl(mockAuditLog({ n: 3 }))
    const lines = text.split('\n')
    for (const [bad, why] of [['{"type":"entry",', 'not JSON'], ['[1,2]', 'not a JSON object'], ['{"type":"note"}', 'unknown type'], ['{"type":"entry","hash":5}', 'hash']]) {
      const broken = [lines[0], bad, lines[2]].join('\n')
      expect(() => parseAuditJsonl(broken)).toThrow(expect.objectContaining({ code: 'audit_export_malformed', message: expect.stringContaining(`line 2: ${why}`) }))
    }
  })
})

describe('CSV export', () => {
  it('round-trips the human columns, including quotes, commas, newlines and formula-like text', () => {
    const log = mockAuditLog({ n: 3 })
    ;(log.entries[1] as AuditEntry).reason = '=HYPERLINK("http://evil")\nline two, with comma'
    ;(log.entries[2] as AuditEntry).reason = "'quoted start"
    const csv = toAuditCsv({ entries: log.entries })
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")\nline two, with comma"`)
    const rows = parseAuditCsv(csv)
    expect(rows).toHaveLength(3)
    expect(rows[1]).toMatchObject({ seq: '1', reason: '=HYPERLINK("http://evil")\nline two, with comma' })
    expect(rows[2]!.reason).toBe("'quoted start")
    expect(rows[0]).toEqual({
      seq: '0',
      time: '2026-01-01T00:00:00.000Z',
      event: 'sign_allowed',
      wallet: log.entries[0]!.wallet,
      agentId: log.entries[0]!.agentId,
      kind: 'eip3009',
      chainId: '84532',
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      amount: '10000',
      payTo: '0x2222222222222222222222222222222222222222',
      resourceUrl: 'https://api.example.com/item/0',
      reason: 'buying item 0, "quoted", =1+1',
      policyVersion: '3',
      policyHash: log.entries[0]!.policy!.hash,
      verdict: 'allow',
      rule: '',
      code: '',
      signedHash: log.entries[0]!.signedHash,
      hash: log.hashes[0],
    })
  })

  it('flattens other action kinds and null actions', () => {
    const log = mockAuditLog({ n: 0 })
    log.append({ event: 'policy_set', action: null, verdict: 'info', resourceUrl: undefined })
    log.append({ action: { kind: 'erc20_approve', chainId: 1, nonce: 0, gas: '0', maxFeePerGas: '0', maxPriorityFeePerGas: '0', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', amount: '5', spender: '0x3333333333333333333333333333333333333333', method: 'approve' } })
    const rows = parseAuditCsv(toAuditCsv(log))
    expect(rows[0]).toMatchObject({ event: 'policy_set', kind: '', amount: '', payTo: '', resourceUrl: '', verdict: 'info' })
    expect(rows[1]).toMatchObject({ kind: 'erc20_approve', amount: '5', payTo: '0x3333333333333333333333333333333333333333' })
  })
})
