import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { toAuditJsonl } from '../../shared/audit/exportFormats.js'
import { mockAuditLog } from '../../shared/audit/mockAuditLog.js'
import { runAuditVerify } from '../../cli/commands/audit.js'
import { createMockNsm } from '../../sim/mockNsm.js'

/**
 * Attack (issue 15 step 2, rt30a): the host cuts the log's end — wallet A's last entries with it — and serves what
 * is left. An auditor who holds an attestation document binding the audit head (`--attestation --attested-inputs`)
 * verifies wallet A's thread with `bursar audit verify --wallet A`. Before the fix the wallet path dropped the attested
 * head without a word and printed OK (exit 0): the one check the auditor asked for, the one that shows the cut, was
 * skipped. Defined outcome: the attested head is a head of the whole log, like `--since-head`; with `--wallet` it is
 * refused as a usage error (exit 2) instead of silently not applied, and the whole-log verify still catches the cut.
 */
describe('adversarial: audit verify --wallet drops the attested head it was asked to require', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-wallet-attested-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const write = (name: string, data: string | Uint8Array) => {
    const p = join(dir, name)
    writeFileSync(p, data)
    return p
  }
  const A = '0x1111111111111111111111111111111111111111'
  const B = '0x2222222222222222222222222222222222222222'
  const log = mockAuditLog({ n: 30, checkpointEvery: 5, threads: true, wallets: [A, B] })

  it('a cut log with the attested head required is never OK under --wallet', async () => {
    const nsm = createMockNsm({ pkiDir: join(dir, 'pki'), measuredFile: write('m', 'measured') })
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(log.publicKeyHex, 'hex')])
    const inputs = { configVersion: 'test', stateVersion: 30, policySetHash: `0x${'11'.repeat(32)}`, auditHead: { seq: 29, hash: log.hashes[29] as string }, wallets: [] }
    const attestation = write('doc.cbor', await nsm.attest({ publicKey: spki, userData: computeAttestationUserData(inputs) }))
    const attestedInputs = write('inputs.json', JSON.stringify(inputs))
    const root = nsm.rootPemPath
    // The host cut seqs 20..29 (A's walletSeq 11..15) and the checkpoints over them: a self-consistent shorter log.
    const cut = write('cut.jsonl', toAuditJsonl({ entries: log.entries.slice(0, 20), hashes: log.hashes.slice(0, 20), checkpoints: log.checkpoints.filter((c) => c.seq < 20) }))
    // The whole-log verify with the attested head catches it.
    expect(await runAuditVerify({ file: cut, attestation, root, attestedInputs })).toMatchObject({ exitCode: 1, stdout: expect.stringContaining('audit_truncated') })
    // The wallet path must not answer OK while leaving that check out.
    const r = await runAuditVerify({ file: cut, attestation, root, attestedInputs, wallet: A })
    expect(r.stdout).not.toContain('OK')
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('--attested-inputs')
    // Without --attested-inputs (the key only) the wallet path still verifies the thread it was given.
    expect(await runAuditVerify({ file: cut, attestation, root, wallet: A })).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('walletSeq 1..10') })
  })
})
