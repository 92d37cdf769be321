import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { parseAuditCsv, toAuditCsv, toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { createMockNsm } from '../../sim/mockNsm.js'
import { auditCommand, runAuditExport, runAuditTail, runAuditVerify } from './audit.js'

const dir = mkdtempSync(join(tmpdir(), 'bursar-audit-cli-'))
const log = mockAuditLog({ n: 30, checkpointEvery: 5 })
const jsonl = toAuditJsonl(log)
const write = (name: string, text: string | Uint8Array) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const good = write('good.jsonl', jsonl)
const key = log.publicKeyHex

let server: Server
let host = ''
let served: (AuditEntry & { hash: string })[] = []
beforeAll(async () => {
  served = log.entries.slice(0, 10).map((e, i) => ({ ...e, hash: log.hashes[i] as string }))
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.headers.authorization !== 'Bearer t0ken') return res.writeHead(401).end('{"code":"audit_read_unauthorized"}')
    if (url.pathname === '/v1/audit/export') {
      const body = url.searchParams.get('format') === 'csv' ? toAuditCsv(log) : jsonl
      return res.writeHead(200).end(body)
    }
    if (url.pathname === '/v1/audit/entries') {
      const after = Number(url.searchParams.get('after'))
      const page = served.filter((e) => e.seq > after).slice(0, 4)
      const next = page.length === 4 ? (page[3] as AuditEntry).seq : null
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ entries: page, checkpoints: [], next }))
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('bursar audit verify', () => {
  it('exits 0 on an intact export and prints the signed head to keep', async () => {
    const r = await runAuditVerify({ file: good, publicKey: key })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain(`OK: 30 entries, head seq 29 ${log.hashes[29]}`)
    expect(r.stdout).toContain(`signed head seq 29`)
  })

  it('exits 1 naming the first broken seq and code', async () => {
    const lines = jsonl.split('\n')
    const i = lines.findIndex((l) => l.includes('"seq":10,') && l.includes('"type":"entry"'))
    lines[i] = (lines[i] as string).replace('buying item 10', 'buying item 11')
    const edited = write('edited.jsonl', lines.join('\n'))
    expect(await runAuditVerify({ file: edited, publicKey: key })).toMatchObject({ exitCode: 1, stdout: expect.stringMatching(/^BROKEN at seq 10: audit_entry_modified/) })
    const cut = write('cut.jsonl', toAuditJsonl({ entries: log.entries.slice(0, 25), checkpoints: log.checkpoints }))
    const json = await runAuditVerify({ file: cut, publicKey: key, json: true })
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 'audit_truncated', seq: 25 })
    expect(await runAuditVerify({ file: write('bad.jsonl', `${jsonl}not json\n`), publicKey: key })).toMatchObject({
      exitCode: 1,
      stdout: expect.stringContaining('audit_export_malformed'),
    })
  })

  it('detects rollback against --since-head', async () => {
    const older = write('older.jsonl', toAuditJsonl({ entries: log.entries.slice(0, 20), checkpoints: log.checkpoints.slice(0, 4) }))
    expect((await runAuditVerify({ file: older, publicKey: key })).exitCode).toBe(0)
    const r = await runAuditVerify({ file: older, publicKey: key, sinceHead: `29:${log.hashes[29]}` })
    expect(r).toMatchObject({ exitCode: 1, stdout: expect.stringContaining('BROKEN at seq 20: audit_rollback') })
  })

  it('exits 2 on usage and I/O errors', async () => {
    for (const opts of [
      { publicKey: key },
      { file: good, host, publicKey: key },
      { file: good },
      { file: good, publicKey: key, sinceHead: '12:0x12' },
      { file: good, publicKey: 'nothex' },
      { file: join(dir, 'missing.jsonl'), publicKey: key },
      { host, publicKey: key, header: ['no colon'] },
      { host, publicKey: key }, // 401 without the owner header
      { file: good, attestation: good },
    ])
      expect((await runAuditVerify(opts)).exitCode).toBe(2)
  })

  it('fetches from --host with the given headers', async () => {
    const r = await runAuditVerify({ host: `${host}/`, publicKey: key, header: ['Authorization: Bearer t0ken'] })
    expect(r.exitCode).toBe(0)
  })

  it('takes the key from a verified attestation document and checks the attested head', async () => {
    const nsm = createMockNsm({ pkiDir: join(dir, 'pki'), measuredFile: good })
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key, 'hex')])
    const inputs = { configVersion: 'test', stateVersion: 30, policySetHash: `0x${'11'.repeat(32)}`, auditHead: { seq: 29, hash: log.hashes[29] as string }, wallets: [] }
    const docBytes = await nsm.attest({ publicKey: spki, userData: computeAttestationUserData(inputs) })
    const doc = write('doc.cbor', docBytes)
    const doc64 = write('doc.b64', Buffer.from(docBytes).toString('base64'))
    const attestedInputs = write('inputs.json', JSON.stringify(inputs))
    const root = nsm.rootPemPath
    expect((await runAuditVerify({ file: good, attestation: doc, root })).exitCode).toBe(0)
    expect((await runAuditVerify({ file: good, attestation: doc64, root, attestedInputs })).exitCode).toBe(0)
    // The log the host serves stops short of the head the enclave attested.
    const older = write('older2.jsonl', toAuditJsonl({ entries: log.entries.slice(0, 20), checkpoints: log.checkpoints.slice(0, 4) }))
    expect(await runAuditVerify({ file: older, attestation: doc, root, attestedInputs })).toMatchObject({ exitCode: 1, stdout: expect.stringContaining('seq 20: audit_truncated') })
    // A document binding another key: the checkpoints no longer verify.
    const other = mockAuditLog({ n: 0, seedByte: 5 }).publicKeyHex
    const otherDoc = write('other.cbor', await nsm.attest({ publicKey: Buffer.concat([spki.subarray(0, 12), Buffer.from(other, 'hex')]) }))
    expect(await runAuditVerify({ file: good, attestation: otherDoc, root })).toMatchObject({ exitCode: 1, stdout: expect.stringContaining('seq 4: audit_checkpoint_invalid') })
    // A document that does not chain to the given root is refused.
    const foreignRoot = createMockNsm({ pkiDir: join(dir, 'pki2'), measuredFile: good })
    await foreignRoot.attest({})
    expect(await runAuditVerify({ file: good, attestation: doc, root: foreignRoot.rootPemPath })).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('attestation refused') })
  })
})

describe('bursar audit export / tail', () => {
  it('exports CSV to a file', async () => {
    const out = join(dir, 'out.csv')
    const r = await runAuditExport({ host, format: 'csv', out, header: ['Authorization: Bearer t0ken'] })
    expect(r.exitCode).toBe(0)
    expect(parseAuditCsv(readFileSync(out, 'utf8')).map((row) => row.hash)).toEqual(log.hashes)
    expect((await runAuditExport({ host, header: ['Authorization: Bearer t0ken'] })).stdout).toBe(jsonl)
    expect((await runAuditExport({ host })).exitCode).toBe(2)
  })

  it('follows new entries page by page until aborted, and flags a broken link', async () => {
    const lines: string[] = []
    const controller = new AbortController()
    const done = runAuditTail({
      host,
      intervalMs: 10,
      header: ['Authorization: Bearer t0ken'],
      signal: controller.signal,
      write: (l) => {
        lines.push(l)
        if (lines.length === 10) served.push(...log.entries.slice(10, 12).map((e, i) => ({ ...e, hash: log.hashes[10 + i] as string })))
        if (lines.length === 12) {
          const e = { ...(log.entries[12] as AuditEntry), prevHash: log.hashes[5] as string }
          served.push({ ...e, hash: '0x' })
        }
        if (lines.length === 14) controller.abort()
      },
    })
    const r = await done
    expect(lines.slice(0, 12).map((l) => l.split('  ')[0])).toEqual(Array.from({ length: 12 }, (_, i) => `#${i}`))
    expect(lines[0]).toContain('reason "buying item 0, \\"quoted\\", =1+1"')
    expect(lines[12]).toMatch(/^!! CHAIN BROKEN at seq 12/)
    expect(r.exitCode).toBe(1)
  })

  it('registers verify, export and tail', () => {
    const cmd = auditCommand()
    expect(cmd.commands.map((c) => c.name())).toEqual(['verify', 'export', 'tail', 'query', 'token'])
    const verify = cmd.commands[0]!
    expect(verify.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--file', '--host', '--public-key', '--attestation', '--root', '--since-head', '--json', '--header']))
  })
})
