import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../canonical/canonicalJson.js'
import type { AuditEntryBody } from './auditEntry.js'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'
import { parseAuditJsonl, toAuditJsonl } from './exportFormats.js'
import { GENESIS_HASH, hashCanonicalAuditEntry } from './hashAuditEntry.js'
import { mockAuditLog } from './mockAuditLog.js'
import { verifyAuditLog } from './verifyAuditLog.js'
import { fastVerifyAuditJsonl, verifyAuditJsonl, verifyAuditJsonlFile } from './verifyAuditJsonl.js'
import { CHAIN_B, multiChainAuditLog, multiChainJsonl } from '../../test/helpers/multiChainAuditLog.js'

const FILE = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-jsonl-')), 'audit.jsonl')
const CHUNK_BYTES = [1, 300, 4096]
/** `make test-slow`: the tampered-exports test's number forms at every edited entry (see there). */
const ALL_FORMS = process.env.BURSAR_TEST_SLOW === '1'
let fileRuns = 0

/**
 * Differential test of the verifier-only fast path: on every export, valid or
 * tampered, verifyAuditJsonl must return (or throw) exactly what the reference
 * verifyAuditLog({ ...parseAuditJsonl(text) }) does, and on canonical exports
 * it must actually take the fast path (else it proves nothing about speed).
 */

// Deterministic PRNG (mulberry32) so a failure names a reproducible case.
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const addr = (c: string) => `0x${c.repeat(40)}`
/** Bodies that exercise every branch of the scanner: other kinds, nulls, escapes, non-ASCII, floats, odd keys. */
function variedBody(i: number): Partial<AuditEntryBody> {
  switch (i % 9) {
    case 1:
      return { action: null, policy: null, resourceUrl: undefined, rule: 'r1', code: 'c1' }
    case 2:
      return { reason: `café ☕ 😀 tab\tnl\n ctl\u0001 quote" back\\ slash/`, agentId: 'agt_ü' }
    case 3:
      return {
        action: {
          kind: 'permit2_transfer', primaryType: 'PermitWitnessTransferFrom', chainId: 8453, asset: addr('A'), amount: '5',
          spender: addr('b'), payTo: null, nonce: '7', deadline: '99', witness: { type: 'Witness', struct: 'Witness(address to,uint256 validAfter)', fields: { to: addr('c'), validAfter: '0' } },
        },
      }
    case 4:
      return { ledger: [{ b: 1, a: [-5, 0, 1.5, 'x', true, false, null], c: { '10': 1, '9': 2, '': 3 } }, [], {}] }
    case 5:
      return { event: 'agent_registered', verdict: 'info', agentId: null, wallet: null, signedHash: null, action: null, requestId: null }
    case 6:
      return { wallet: addr('F'), signedHash: `0x${'AB'.repeat(32)}`, policy: { version: 0, hash: `0x${'Ef'.repeat(32)}` } }
    case 7:
      return {
        action: {
          kind: 'erc20_transfer', chainId: 1, nonce: 3, gas: '21000', maxFeePerGas: '1', maxPriorityFeePerGas: '0', asset: addr('d'),
          amount: '1', payTo: addr('e'), from: addr('f'), method: 'transfer',
        },
        ledger: [{ big: 123456789012345, neg: -1, s: 'x\u007f' }],
      }
    case 8:
      return { time: Number.MAX_SAFE_INTEGER, stateVersion: 0, reason: 'naïve 日本語 😀 "q" \\ \n — ok', rule: null }
    default:
      return {}
  }
}

function variedLog(n: number, checkpointEvery = 5, threads = false) {
  const log = mockAuditLog({ n: 0, threads })
  for (let i = 0; i < n; i++) log.append(variedBody(i), (i + 1) % checkpointEvery === 0)
  return log
}

/** Non-canonical spellings of the same numbers (and one string escape) that JSON.parse reads back unchanged. */
const numberForms: [RegExp, string][] = [
  [/"stateVersion":(\d+)/, '"stateVersion":$1.0'],
  [/"stateVersion":(\d+)/, '"stateVersion":$1e0'],
  [/"stateVersion":0/, '"stateVersion":-0'],
  [/"time":(\d+)/, '"time":0$1'],
  [/"i":(\d+)/, '"i":$1.0'],
  [/"i":0/, '"i":-0'],
  [/"i":(\d+)/, '"i":1E$1'],
  [/"chainId":(\d+)/, '"chainId":$1.0'],
  [/"validAfter":0/, '"validAfter":-0'],
  [/"reason":"b/, '"reason":"\\u0062'],
  [/"op":"reserve"/, '"op":"reserv\\u0065"'],
  [/"b":1,/, '"b":1.00,'],
  [/"big":123456789012345/, '"big":1234567890123456'],
  [/"big":123456789012345/, '"big":9999999999999999'],
  [/"big":123456789012345/, '"big":12345678901234567'],
]

/** Re-links a list of parsed export lines the reference's way: prevHash, hash, checkpoint heads (re-signed). */
function rechain(objs: Record<string, unknown>[], signer: (m: Uint8Array) => Uint8Array): Record<string, unknown>[] {
  let prev = GENESIS_HASH
  let lastSeq = -1
  return objs.map((o) => {
    if (o.type === 'checkpoint') {
      const seq = typeof o.seq === 'number' && o.seq <= lastSeq ? o.seq : lastSeq
      const cp = { seq, head: prev, time: 1 }
      return { ...cp, type: 'checkpoint', signature: `0x${Buffer.from(signer(auditCheckpointMessage(cp))).toString('hex')}` }
    }
    const { type: _t, hash: _h, mac: _m, ...entry } = o
    const linked: Record<string, unknown> = { ...entry, prevHash: prev }
    try {
      prev = hashCanonicalAuditEntry(prev, canonicalJson(linked))
    } catch {
      return { ...o, prevHash: prev }
    }
    if (typeof linked.seq === 'number') lastSeq = linked.seq
    return { ...o, prevHash: linked.prevHash, hash: prev }
  })
}

type Outcome = { result: unknown } | { threw: string }
function outcome(fn: () => unknown): Outcome {
  try {
    return { result: fn() }
  } catch (err) {
    return { threw: `${(err as { code?: string }).code ?? ''}: ${(err as Error).message}` }
  }
}

type Extra = { sinceHead?: { seq?: number; hash: string }; expectedHead?: { seq: number; hash: string } }
function same(text: string, publicKey: string, extra: Extra = {}): Outcome {
  const ref = outcome(() => verifyAuditLog({ ...parseAuditJsonl(text), publicKey, ...extra }))
  expect(outcome(() => verifyAuditJsonl({ jsonl: Buffer.from(text, 'utf8'), publicKey, ...extra }))).toEqual(ref)
  expect(outcome(() => verifyAuditJsonl({ jsonl: text, publicKey, ...extra }))).toEqual(ref)
  // The CLI's file path: read in chunks of whole lines; the first buffer's size rotates over the calls (1 and 300
  // bytes: lines longer than a buffer, grown; 4096: several lines a chunk, the rest carried to the next read).
  writeFileSync(FILE, text)
  const chunkBytes = CHUNK_BYTES[fileRuns++ % CHUNK_BYTES.length]
  expect(outcome(() => verifyAuditJsonlFile({ file: FILE, chunkBytes, publicKey, ...extra }))).toEqual(ref)
  return ref
}
/** `n` single-bit flips anywhere in the export (content, keys, hashes, checkpoint signatures, newlines). */
function bitFlips(text: string, rand: () => number, n: number, check: (t: string) => void): void {
  const bytes = Buffer.from(text, 'utf8')
  for (let k = 0; k < n; k++) {
    const b = Buffer.from(bytes)
    const at = Math.floor(rand() * b.length)
    b[at] = (b[at] as number) ^ (1 << Math.floor(rand() * 8))
    check(b.toString('utf8'))
  }
}
/** `n` times: two lines swapped, one dropped, one duplicated. */
function lineMoves(lines: string[], rand: () => number, n: number, check: (t: string) => void): void {
  for (let k = 0; k < n; k++) {
    const i = Math.floor(rand() * lines.length)
    const j = Math.floor(rand() * lines.length)
    const swapped = [...lines]
    ;[swapped[i], swapped[j]] = [swapped[j] as string, swapped[i] as string]
    check(swapped.join('\n'))
    check(lines.filter((_, x) => x !== i).join('\n'))
    check([...lines.slice(0, i + 1), lines[j], ...lines.slice(i + 1)].join('\n'))
  }
}
const fastTaken = (text: string, publicKey: string, extra: Extra = {}) =>
  fastVerifyAuditJsonl(Buffer.from(text, 'utf8'), { publicKey, ...extra }) !== undefined

describe('verifyAuditJsonl (fast path) decides exactly as verifyAuditLog', () => {
  it('valid exports: same result, through the fast path', () => {
    for (const n of [0, 1, 7, 40]) {
      const log = variedLog(n)
      const text = toAuditJsonl(log)
      const ref = same(text, log.publicKeyHex)
      expect(ref).toMatchObject({ result: { ok: true, count: n } })
      expect(fastTaken(text, log.publicKeyHex)).toBe(true)
    }
    // As the host's export writes them (host/routes/auditExport.ts): JSON.stringify({ type, ...stored row }).
    const log = variedLog(20)
    const hostStyle = toAuditJsonl(log)
      .trimEnd()
      .split('\n')
      .map((l) => {
        const { type, ...row } = JSON.parse(l) as Record<string, unknown>
        return JSON.stringify({ type, ...row })
      })
      .join('\n')
    expect(same(hostStyle, log.publicKeyHex)).toMatchObject({ result: { ok: true, count: 20 } })
    expect(fastTaken(hostStyle, log.publicKeyHex)).toBe(true)
    const twice = hostStyle.replace('"type":"entry","action"', '"type":"entry","type":"entry","action"')
    expect(same(twice, log.publicKeyHex)).toMatchObject({ result: { ok: true } })
    const plain = mockAuditLog({ n: 50, checkpointEvery: 10 })
    expect(same(toAuditJsonl(plain), plain.publicKeyHex)).toMatchObject({ result: { ok: true, count: 50 } })
    expect(fastTaken(toAuditJsonl(plain), plain.publicKeyHex)).toBe(true)
  })

  it('accepted variants of the text: CRLF, blank lines, no recorded hash, upper-case hash, a mac member, non-canonical lines', () => {
    const log = variedLog(20)
    const text = toAuditJsonl(log)
    const lines = text.trimEnd().split('\n')
    const edit = (f: (o: Record<string, unknown>, i: number) => string) =>
      lines.map((l, i) => f(JSON.parse(l) as Record<string, unknown>, i)).join('\n')
    const variants = [
      text.replaceAll('\n', '\r\n'),
      `\n${text.replaceAll('\n', '\n\n')}  \n`,
      edit((o) => (o.type === 'entry' ? canonicalJson({ ...o, hash: undefined }) : canonicalJson(o))),
      edit((o) => canonicalJson(o.type === 'entry' ? { ...o, hash: String(o.hash).toUpperCase() } : o)),
      edit((o) => canonicalJson(o.type === 'entry' ? { ...o, mac: `0x${'11'.repeat(32)}` } : o)),
      edit((o) => canonicalJson(o.type === 'entry' ? { ...o, mac: { z: [1, { y: 'é' }], a: null } } : o)),
      edit((o, i) => (i % 3 === 0 ? JSON.stringify(o) : JSON.stringify(o).replaceAll(',"', ', "'))), // other key order, whitespace
      edit((o, i) => (i === 4 ? ` ${canonicalJson(o)}\t` : canonicalJson(o))),
      edit((o) => canonicalJson(o).replaceAll('"verdict":"allow"', '"verdict":"\\u0061llow"')), // non-canonical escape
    ]
    for (const v of variants) expect(same(v, log.publicKeyHex)).toMatchObject({ result: { ok: true, count: 20 } })
  })

  it('tampered exports: bit flips, reordered, dropped and duplicated lines, bad hashes, checkpoints and heads', () => {
    const log = variedLog(28) // the last entry (seq 27) has a plain body: the fast path scans it
    const text = toAuditJsonl(log)
    const lines = text.trimEnd().split('\n')
    const key = log.publicKeyHex
    const rand = rng(18)
    let failures = 0
    const check = (t: string, extra: Extra = {}) => {
      const r = same(t, key, extra)
      if (!('result' in r) || !(r.result as { ok: boolean }).ok) failures++
    }
    // Single-bit flips anywhere (content, keys, hashes, checkpoint signatures, newlines).
    bitFlips(text, rand, 250, check)
    // Reorder, drop, duplicate lines.
    lineMoves(lines, rand, 30, check)
    // Field edits, in canonical form (so the fast path scans them) and not.
    const entryIdx = lines.map((l, i) => (l.includes('"type":"entry"') ? i : -1)).filter((i) => i >= 0)
    const edits: ((o: Record<string, unknown>) => Record<string, unknown>)[] = [
      (o) => ({ ...o, amountX: 1 }),
      (o) => ({ ...o, seq: (o.seq as number) + 1 }),
      (o) => ({ ...o, seq: -0 }),
      (o) => ({ ...o, time: 1.5 }),
      (o) => ({ ...o, time: Number.MAX_SAFE_INTEGER + 1 }),
      (o) => ({ ...o, reason: 'x'.repeat(281) }),
      (o) => ({ ...o, reason: 'é'.repeat(200) }),
      (o) => ({ ...o, reason: 'é'.repeat(281) }),
      (o) => ({ ...o, reason: '😀'.repeat(140) }),
      (o) => ({ ...o, reason: '😀'.repeat(141) }),
      (o) => ({ ...o, reason: `${'\n'.repeat(140)}${'日'.repeat(140)}` }),
      (o) => ({ ...o, reason: `${'\n'.repeat(141)}${'日'.repeat(140)}` }),
      (o) => ({ ...o, agentId: 'ü'.repeat(128) }),
      (o) => ({ ...o, ledger: [{ ü: 1, u: 2 }] }),
      (o) => ({ ...o, action: { ...(o.action as object), kind: 'raw_message', length: 3, message: { text: 'é😀' } } }),
      (o) => ({ ...o, agentId: 'a'.repeat(129) }),
      (o) => ({ ...o, resourceUrl: null }),
      (o) => ({ ...o, event: 'sign_maybe' }),
      (o) => ({ ...o, verdict: 'Allow' }),
      (o) => ({ ...o, prevHash: String(o.prevHash).toUpperCase().replace('0X', '0x') }),
      (o) => ({ ...o, hash: `0x${'00'.repeat(32)}` }),
      (o) => ({ ...o, hash: 5 }),
      (o) => o,
      (o) => ({ ...o, reason: 'b'.repeat(280) }),
      (o) => ({ ...o, time: Number.MAX_SAFE_INTEGER }),
      (o) => ({ ...o, stateVersion: 0, ledger: [{ i: 0, op: 'reserve' }] }),
      (o) => ({ ...o, ledger: [{ b: 1, big: 123456789012345 }] }),
      (o) => ({ ...o, ledger: [{ op: 'x', amount: '1', i: 0, n: { z: 1, a: 2 } }] }),
      (o) => ({ ...o, action: { ...(o.action as object), validAfter: 0 } }),
      (o) => ({ ...o, ledger: {} }),
      (o) => ({ ...o, wallet: '0x12' }),
      (o) => ({ ...o, policy: { version: 1, hash: `0x${'ab'.repeat(32)}`, extra: 1 } }),
      (o) => ({ ...o, action: { ...(o.action as object), amount: '01' } }),
      (o) => ({ ...o, action: { ...(o.action as object), chainId: 0 } }),
      (o) => ({ ...o, action: { ...(o.action as object), kind: 'eip3008' } }),
      (o) => ({ ...o, action: { ...(o.action as object), primaryType: 'Transfer' } }),
      (o) => ({ ...o, action: { ...(o.action as object), nonce: '0x1' } }),
      (o) => ({ ...o, action: { ...(o.action as object), extra: 1 } }),
      (o) => ({ ...o, ledger: [{ ['__proto__']: 1 }] }),
      (o) => ({ ...o, type: 'checkpoint' }),
      (o) => ({ ...o, type: 'note' }),
    ]
    // Each edit is re-chained (prevHash links, recorded hashes and checkpoint heads recomputed the reference's
    // way, checkpoints re-signed), so only the schema / canonical-form checks can catch it; then once more with
    // no recorded hashes, and with number forms that parse to the same value but are not canonical.
    // suite40: the number forms (the largest share of this test's ~2,000 checks) go with each edit at one of the three
    // entries in `make test`, rotating, so every edit and every entry still meets every form; `make test-slow`
    // (BURSAR_TEST_SLOW=1) applies them at all three (the full cross product, as before).
    const lastEntry = entryIdx[entryIdx.length - 1] as number
    for (const [p, i] of [entryIdx[0] as number, entryIdx[13] as number, lastEntry].entries()) {
      for (const [k, e] of edits.entries()) {
        const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
        objs[i] = e(objs[i] as Record<string, unknown>)
        const chained = rechain(objs, log.signer)
        check(chained.map((o) => canonicalJson(o)).join('\n'))
        check(chained.map((o) => JSON.stringify(o)).join('\n'))
        const bare = chained.map((o) => canonicalJson({ ...o, hash: undefined }))
        check(bare.join('\n'))
        check(chained.map((o) => JSON.stringify({ ...o, hash: undefined })).join('\n')) // insertion order, not sorted
        check(chained.map(({ type, ...o }) => JSON.stringify({ type, ...o })).join('\n')) // the host's export order
        if (!ALL_FORMS && (k + p) % 3 !== 0) continue
        for (const [from, to] of numberForms) {
          const tweaked = (bare[i] as string).replace(from, to)
          if (tweaked !== bare[i]) check(bare.map((l, x) => (x === i ? tweaked : l)).join('\n'))
        }
      }
    }
    // Checkpoints: wrong signature, wrong head, dropped (with an expected head), and the auditor's heads.
    const cpIdx = lines.map((l, i) => (l.includes('"type":"checkpoint"') ? i : -1)).filter((i) => i >= 0)
    for (const i of cpIdx) {
      const cp = JSON.parse(lines[i] as string) as Record<string, string>
      const sig = `${cp.signature?.slice(0, -2)}${cp.signature?.endsWith('00') ? '01' : '00'}`
      check(lines.map((l, x) => (x === i ? canonicalJson({ ...cp, signature: sig }) : l)).join('\n'))
      check(lines.map((l, x) => (x === i ? canonicalJson({ ...cp, head: log.hashes[0] }) : l)).join('\n'))
    }
    const h = log.hashes
    const heads: Extra[] = [
      { expectedHead: { seq: 27, hash: h[27] as string } },
      { expectedHead: { seq: 28, hash: h[27] as string } },
      { expectedHead: { seq: 12, hash: (h[12] as string).toUpperCase().replace('0X', '0x') } },
      { expectedHead: { seq: 12, hash: h[11] as string } },
      { sinceHead: { seq: 10, hash: h[10] as string } },
      { sinceHead: { hash: h[10] as string } },
      { sinceHead: { hash: `0x${'99'.repeat(32)}` } },
      { sinceHead: { seq: 40, hash: h[10] as string } },
    ]
    for (const extra of heads) check(text, extra)
    // A partial log anchored by the auditor's earlier head (with and without the right anchor).
    const tail = lines.slice(lines.findIndex((l) => l.includes('"seq":10,')) + 0)
    const part = tail.filter((l) => !(l.includes('"type":"entry"') && /"seq":10,/.test(l))).join('\n')
    check(part, { sinceHead: { seq: 10, hash: h[10] as string } })
    check(part, { sinceHead: { seq: 10, hash: (h[10] as string).toUpperCase().replace('0X', '0x') } })
    check(part, { sinceHead: { seq: 10, hash: h[9] as string } })
    check(part, { sinceHead: { seq: 10, hash: 'zz' } })
    check(part)
    expect(fastTaken(part, key, { sinceHead: { seq: 10, hash: h[10] as string } })).toBe(true)
    // Malformed lines and keys.
    check(`${text}[1]\n`)
    check(`\ufeff${text}`)
    check(text.replace('{', '{ '))
    expect(() => verifyAuditJsonl({ jsonl: text, publicKey: 'zz' })).toThrow(/Ed25519/)
    check(`${text}{"type":"entry",\n`)
    expect(failures).toBeGreaterThan(250) // the tampering did break most exports (a test that cannot fail is a defect)
  }, 180_000) // ~250 cases, each verified four ways (the file path too); a loaded machine needs more than the default minute

  it('wallet threads (issue 15): valid threaded exports take the fast path; tampered ones decide as the reference', () => {
    const log = variedLog(40, 5, true)
    const text = toAuditJsonl(log)
    expect(same(text, log.publicKeyHex)).toMatchObject({ result: { ok: true, count: 40 } })
    expect(fastTaken(text, log.publicKeyHex)).toBe(true)
    const lines = text.trimEnd().split('\n')
    const rand = rng(15)
    let failures = 0
    const check = (t: string, extra: Extra = {}) => {
      const r = same(t, log.publicKeyHex, extra)
      if (!('result' in r) || !(r.result as { ok: boolean }).ok) failures++
    }
    const bytes = Buffer.from(text, 'utf8')
    for (let k = 0; k < 60; k++) {
      const b = Buffer.from(bytes)
      const at = Math.floor(rand() * b.length)
      b[at] = (b[at] as number) ^ (1 << Math.floor(rand() * 8))
      check(b.toString('utf8'))
    }
    // Thread-field edits, re-chained (prevHash and recorded hashes recomputed): only the thread check catches them.
    const entryIdx = lines.map((l, i) => (l.includes('"walletSeq"') ? i : -1)).filter((i) => i >= 0)
    const edits: ((o: Record<string, unknown>) => Record<string, unknown>)[] = [
      (o) => ({ ...o, walletSeq: (o.walletSeq as number) + 1 }),
      (o) => ({ ...o, walletSeq: 0 }),
      (o) => ({ ...o, walletPrev: GENESIS_HASH }),
      (o) => ({ ...o, walletPrev: String(o.walletPrev).toUpperCase().replace('0X', '0x') }),
      (o) => ({ ...o, walletPrev: undefined }),
      (o) => ({ ...o, walletSeq: undefined, walletPrev: undefined }),
      (o) => ({ ...o, wallet: null }),
      (o) => ({ ...o, wallet: String(o.wallet).toUpperCase().replace('0X', '0x') }),
    ]
    for (const i of [entryIdx[0] as number, entryIdx[9] as number, entryIdx[entryIdx.length - 1] as number])
      for (const e of edits) {
        const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
        objs[i] = e(objs[i] as Record<string, unknown>)
        const chained = rechain(objs, log.signer)
        check(chained.map((o) => canonicalJson(o)).join('\n'))
        check(chained.map(({ type, ...o }) => JSON.stringify({ type, ...o })).join('\n'))
      }
    // Anchored slice: a wallet's first entry in it may continue a thread begun before it.
    const tail = lines.slice(lines.findIndex((l) => l.includes('"seq":11,'))).join('\n')
    check(tail, { sinceHead: { seq: 10, hash: log.hashes[10] as string } })
    expect(fastTaken(tail, log.publicKeyHex, { sinceHead: { seq: 10, hash: log.hashes[10] as string } })).toBe(true)
    expect(failures).toBeGreaterThan(60)
  }, 120_000)

  it('several chains (issue 15 step 4): the fast path follows them; tampered exports decide as the reference', () => {
    const log = multiChainAuditLog()
    const text = multiChainJsonl(log)
    const ok = same(text, log.publicKeyHex) as { result: { ok: boolean; count: number; chains?: { chain: string; count: number }[] } }
    expect(ok.result).toMatchObject({ ok: true, count: log.root.entries.length, chains: [{ chain: CHAIN_B, count: log.b.entries.length }] })
    expect(fastTaken(text, log.publicKeyHex)).toBe(true)
    // The fork: both chains verify alone; the threads across them do not.
    const forked = multiChainAuditLog({ fork: true })
    expect(same(multiChainJsonl(forked), forked.publicKeyHex)).toMatchObject({ result: { ok: false, code: 'audit_wallet_forked', chain: CHAIN_B } })
    const lines = text.trimEnd().split('\n')
    const rand = rng(21)
    let failures = 0
    const check = (t: string, extra: Extra = {}) => {
      const r = same(t, log.publicKeyHex, extra)
      if (!('result' in r) || !(r.result as { ok: boolean }).ok) failures++
    }
    bitFlips(text, rand, 80, check)
    lineMoves(lines, rand, 25, check)
    // Header edits: another id, "" (back to the root), a member too many, the header dropped or repeated.
    const h = lines.findIndex((l) => l.includes('"type":"chain"'))
    for (const header of [`{"chain":"${'aa'.repeat(16)}","type":"chain"}`, '{"chain":"","type":"chain"}', `{"chain":"${CHAIN_B}","type":"chain","x":1}`, `{"chain":"${CHAIN_B.toUpperCase()}","type":"chain"}`])
      check([...lines.slice(0, h), header, ...lines.slice(h + 1)].join('\n'))
    check([...lines.slice(0, h), ...lines.slice(h + 1)].join('\n'))
    check([...lines, lines[h] as string].join('\n'))
    check([...lines.slice(0, h), lines[h] as string, ...lines.slice(h)].join('\n'))
    // The root's lines only, and chain B's only (after its header).
    check(lines.slice(0, h).join('\n'))
    check(lines.slice(h).join('\n'))
    // Anchored root: the root's tail after a head seen before, then chain B.
    const cut = lines.findIndex((l) => l.includes('"seq":6,') && l.includes('"type":"entry"'))
    check(lines.slice(cut).join('\n'), { sinceHead: { seq: 5, hash: log.root.hashes[5] as string } })
    expect(fastTaken(lines.slice(cut).join('\n'), log.publicKeyHex, { sinceHead: { seq: 5, hash: log.root.hashes[5] as string } })).toBe(true)
    expect(failures).toBeGreaterThan(100)
  }, 120_000)

  it('a lone surrogate in a text export is left to the reference', () => {
    const log = mockAuditLog({ n: 3, checkpointEvery: 3 })
    const text = toAuditJsonl({ ...log, entries: log.entries.map((e, i) => (i === 1 ? { ...e, reason: 'x\ud800' } : e)), hashes: undefined })
    expect(outcome(() => verifyAuditJsonl({ jsonl: text, publicKey: log.publicKeyHex }))).toEqual(
      outcome(() => verifyAuditLog({ ...parseAuditJsonl(text), publicKey: log.publicKeyHex })),
    )
  })
})
