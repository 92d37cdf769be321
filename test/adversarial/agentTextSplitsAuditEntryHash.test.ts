import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { eip3009, paymentPolicy, signedBody } from '../helpers/agentClient.js'
import { stackWithAgentPerFile } from '../helpers/stackWithAgentPerFile.js'

const AMOUNT = 1_000n
const ROOT = path.resolve(import.meta.dirname, '../..')
const PY = path.join(ROOT, '.venv/bin/python')

/**
 * Red team rt37b on cpu37's canonicalJson fast path (a string with no control character, quote, backslash or
 * surrogate is quoted as it is, not through JSON.stringify): the audit entry hash is SHA-256 over the entry's canonical
 * JSON, and every verifier must compute the same bytes. Attack: agent text (reason, resource URL) chosen at each edge
 * of the fast path — U+007F, U+2028/2029, U+FEFF, non-BMP, quotes, backslashes, controls, a lone surrogate, text that
 * spells an escape — so that the enclave's entry hash differs from an independent canonicalization (a receipt no
 * verifier accepts), or two different texts hash alike. The enclave's entryHash must equal a reference written here from
 * ECMA-262 QuoteJSONString (not JSON.stringify, not shared/canonical) and the Python SDK's entry_hash (exact and fast).
 */
function quote(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' }
    if (short[c] !== undefined) out += short[c]
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) out += s[i]! + s[++i]!
    else if (c >= 0xd800 && c <= 0xdfff) out += `\\u${c.toString(16)}`
    else out += s[i]!
  }
  return `${out}"`
}
function reference(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'number') return String(v)
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`
  const o = v as Record<string, unknown>
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${quote(k)}:${reference(o[k])}`).join(',')}}`
}
const referenceHash = (e: AuditEntry) =>
  `0x${createHash('sha256').update('bursar.audit.entry.v1').update(Buffer.from(e.prevHash.slice(2), 'hex')).update(Buffer.from(reference(e), 'utf8')).digest('hex')}`

/** The Python SDK's entry_hash of `entry` (exact and fast), or its error; the entry travels as JSON (escapes kept). */
function pythonHashes(entry: AuditEntry): { exact: string; fast: string } | { error: string } {
  const code = `import json,sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'clients/python/src'))})
from bursar.receipts import entry_hash
e = json.loads(sys.stdin.read())
try: print(json.dumps({"exact": entry_hash(e), "fast": entry_hash(e, fast=True)}))
except ValueError as err: print(json.dumps({"error": type(err).__name__}))`
  return JSON.parse(execFileSync(PY, ['-c', code], { input: JSON.stringify(entry) }).toString()) as never
}

describe('adversarial: agent text at the edges of the canonicalJson fast path (cpu37) vs every verifier', () => {
  const s = stackWithAgentPerFile(paymentPolicy({ perTx: AMOUNT.toString(), rolling24h: (AMOUNT * 100n).toString() }))

  const sign = async (reason: string, resourceUrl: string) => {
    const body = signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value: AMOUNT }), extra: { context: { reason, resourceUrl } } })
    const res = await fetch(`${s.stack.url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const text = await res.text()
    expect(res.status, text).toBe(200)
    const answer = JSON.parse(text) as { receipt: { entryHash: string }; auditEntry: AuditEntry }
    expect([answer.auditEntry.reason, answer.auditEntry.resourceUrl]).toEqual([reason, resourceUrl])
    return answer
  }

  // Each a string the fast path quotes as it is, or one a wrong fast path would (every class JSON.stringify escapes).
  const texts = [
    'plain ascii \u007f del',
    'line \u2028 para \u2029 bom \ufeff nbsp \u00a0',
    'astral \u{1f600}\u{10ffff} é',
    'quote " backslash \\ slash /',
    'controls \u0000\u0001\b\t\n\f\r\u001f',
    'spelt \\u2028 \\ud800 \\"',
    '\u2028',
    '\\u2028',
  ]

  it('every entry hash: the enclave = an independent canonicalization = the Python SDK (exact and fast); no two alike', async () => {
    const python = existsSync(PY)
    const hashes = new Set<string>()
    for (const [i, reason] of texts.entries()) {
      const answer = await sign(reason, `https://m.example/${texts[(i + 3) % texts.length]}`)
      expect(referenceHash(answer.auditEntry), reason).toBe(answer.receipt.entryHash)
      if (python) expect(pythonHashes(answer.auditEntry), reason).toEqual({ exact: answer.receipt.entryHash, fast: answer.receipt.entryHash })
      hashes.add(answer.receipt.entryHash)
    }
    expect(hashes.size).toBe(texts.length)
  }, 120_000)

  it('a lone surrogate: the enclave hashes its escape (as the reference); the Python SDK (exact and fast) the same hash', async () => {
    const answer = await sign('lone \ud800 then \udfff', 'https://m.example/\udbff')
    expect(referenceHash(answer.auditEntry)).toBe(answer.receipt.entryHash)
    // suite40: the Python SDK writes a lone surrogate \udXXX as JSON.stringify does (it raised UnicodeEncodeError before:
    // an honest entry was receipt_invalid there); rt40: the hash it computes is the enclave's, not merely some hash.
    if (existsSync(PY)) expect(pythonHashes(answer.auditEntry)).toEqual({ exact: answer.receipt.entryHash, fast: answer.receipt.entryHash })
  }, 60_000)
})
