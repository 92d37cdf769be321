import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { createTestMockNsm, type TestMockNsm } from '../../test/vectors/createTestMockNsm.js'
import { loadNitroVectors, REPO_ROOT } from '../../test/vectors/loadNitroVectors.js'
import { runAttestationCli, runAttestationFetch, runAttestationVerify } from './attestation.js'

const dir = mkdtempSync(join(tmpdir(), 'bursar-attest-cli-'))
const vectors = loadNitroVectors()
const rootPath = join(vectors?.dir ?? dir, 'root.pem')
const vector = (prefix: string) => vectors!.vectors.find((v) => v.name.startsWith(prefix))!
const file = (name: string, data: Uint8Array | string) => {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}
const inputs = {
  configVersion: 'sim-1',
  stateVersion: 3,
  policySetHash: `0x${'11'.repeat(32)}`,
  auditHead: { seq: 5, hash: `0x${'22'.repeat(32)}` },
  wallets: ['0x1111111111111111111111111111111111111111'],
}

describe.skipIf(!vectors)('attestation verify (real vectors)', () => {
  it('verifies a raw CBOR and a base64 document at its own time, with a human summary', async () => {
    const v = vector('base_nitro_validator_20241130')
    const at = String(Math.floor(v.meta.timestamp_ms! / 1000))
    const raw = await runAttestationVerify({ file: join(vectors!.dir, `${v.name}.cbor`), root: rootPath, at })
    expect(raw.exitCode).toBe(0)
    expect(raw.stdout).toContain('VERIFIED')
    expect(raw.stdout).toContain(v.meta.module_id as string)
    expect(raw.stdout).toMatch(/PCR0\s+ec74bfbe/)
    const b64 = file('doc.b64', `${Buffer.from(v.bytes).toString('base64').replace(/(.{76})/g, '$1\n')}\n`)
    expect((await runAttestationVerify({ file: b64, root: rootPath, at: 'document' })).exitCode).toBe(0)
  })

  it('refuses with exit 1 and says why (stderr or JSON)', async () => {
    const bad = vector('eternis_invalid')
    const r = await runAttestationVerify({ file: join(vectors!.dir, `${bad.name}.cbor`), root: rootPath, at: 'document', allowDebug: true })
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toContain('attestation_signature_invalid')
    const debug = vector('evervault_beta_debug_2022')
    const j = await runAttestationVerify({ file: join(vectors!.dir, `${debug.name}.cbor`), root: rootPath, at: 'document', json: true })
    expect(j.exitCode).toBe(1)
    expect(JSON.parse(j.stdout).error.code).toBe('attestation_debug_mode')
    const live = await runAttestationVerify({ file: join(vectors!.dir, `${debug.name}.cbor`), root: rootPath, allowDebug: true })
    expect([live.exitCode, live.stderr]).toEqual([1, expect.stringContaining('attestation_cert_expired')])
    const kms = await runAttestationVerify({ file: join(vectors!.dir, 'kms_cms_envelopeddata_constructed.ber'), root: rootPath, at: 'document' })
    expect([kms.exitCode, kms.stderr]).toEqual([1, expect.stringContaining('attestation_malformed')])
  })

  it('checks --pcr, --nonce and --user-data; JSON output carries the fields', async () => {
    const v = vector('eternis_test')
    const path = join(vectors!.dir, `${v.name}.cbor`)
    const base = { file: path, root: rootPath, at: 'document', allowDebug: true, json: true }
    const ok = await runAttestationVerify({ ...base, nonce: `${'00'.repeat(19)}01`, pcr: [`0=${'00'.repeat(48)}`] })
    expect(ok.exitCode).toBe(0)
    const out = JSON.parse(ok.stdout)
    expect([out.verified, out.document.debugMode, out.document.nonce]).toEqual([true, true, `${'00'.repeat(19)}01`])
    expect((await runAttestationVerify({ ...base, nonce: '00' })).exitCode).toBe(1)
    expect((await runAttestationVerify({ ...base, userData: 'abcd' })).exitCode).toBe(1)
    expect((await runAttestationVerify({ ...base, pcr: [`3=${'00'.repeat(48)}`] })).exitCode).toBe(1)
  })
})

describe('attestation verify: usage errors exit 2', () => {
  it('unreadable file, missing --root, bad flags', async () => {
    expect((await runAttestationVerify({ file: join(dir, 'nope.cbor'), root: join(dir, 'nope.pem') })).exitCode).toBe(2)
    expect((await runAttestationCli(['attestation', 'verify', join(dir, 'x.cbor')])).exitCode).toBe(2)
    expect((await runAttestationCli(['verify', 'x.cbor', '--root', 'r.pem', '--bogus'])).exitCode).toBe(2)
    expect((await runAttestationVerify({ file: 'x', root: 'y', pcr: ['PCR0=zz'] })).exitCode).toBe(2)
    expect((await runAttestationVerify({ file: 'x', root: 'y', at: 'yesterday' })).exitCode).toBe(2)
    const notPem = file('not.pem', 'hello')
    const doc = file('garbage.cbor', new Uint8Array([0x84, 0x00]))
    expect((await runAttestationVerify({ file: doc, root: notPem })).exitCode).toBe(2)
  })
})

describe('attestation verify/fetch against the simulation enclave', () => {
  let sim: TestMockNsm
  let server: Server
  let host: string
  let mode: 'honest' | 'tamperedInputs' | 'otherKey' = 'honest'
  const signer = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' })
  const otherSigner = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' })

  beforeAll(async () => {
    sim = createTestMockNsm()
    server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname !== '/v1/attestation') return res.writeHead(404).end()
      const nonce = Buffer.from(url.searchParams.get('nonce') ?? '', 'hex')
      const document = await sim.nsm.attest({ nonce, userData: computeAttestationUserData(inputs), publicKey: signer })
      const served = mode === 'tamperedInputs' ? { ...inputs, stateVersion: 2 } : inputs
      const key = mode === 'otherKey' ? otherSigner : signer
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ document: Buffer.from(document).toString('base64'), userDataInputs: served, signerPublicKey: key.toString('hex') }))
    })
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())))

  it('verify: a fresh mock document passes live against the sim root, fails against the AWS root', async () => {
    const doc = file('sim.cbor', await sim.nsm.attest({ nonce: new Uint8Array([1, 2, 3]) }))
    const ok = await runAttestationVerify({ file: doc, root: sim.nsm.rootPemPath, nonce: '010203' })
    expect([ok.exitCode, ok.stdout]).toEqual([0, expect.stringContaining(sim.nsm.moduleId)])
    const awsRoot = vectors ? rootPath : file('aws.pem', (await import('../../shared/attestation/awsNitroRootG1.js')).AWS_NITRO_ROOT_G1_PEM)
    const bad = await runAttestationVerify({ file: doc, root: awsRoot })
    expect([bad.exitCode, bad.stderr]).toEqual([1, expect.stringContaining('attestation_root_mismatch')])
  })

  it('fetch: verifies nonce, commitment and signer key, and prints the binding', async () => {
    mode = 'honest'
    const ok = await runAttestationFetch({ host, root: sim.nsm.rootPemPath })
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toContain(inputs.policySetHash)
    expect(ok.stdout).toContain(signer.toString('hex'))
    expect(ok.stdout).toContain(inputs.wallets[0])
    expect(ok.stdout).toMatch(/audit head\s+seq 5/)
    const j = JSON.parse((await runAttestationFetch({ host, root: sim.nsm.rootPemPath, json: true })).stdout)
    expect(j.userDataInputs.auditHead.seq).toBe(5)
  })

  it('fetch: refuses a lying host, the AWS root, and reports an unreachable host as exit 2', async () => {
    mode = 'tamperedInputs'
    expect((await runAttestationFetch({ host, root: sim.nsm.rootPemPath })).stderr).toContain('attestation_user_data_mismatch')
    mode = 'otherKey'
    expect((await runAttestationFetch({ host, root: sim.nsm.rootPemPath })).stderr).toContain('attestation_public_key_mismatch')
    mode = 'honest'
    const aws = await runAttestationFetch({ host })
    expect([aws.exitCode, aws.stderr]).toEqual([1, expect.stringContaining('attestation_root_mismatch')])
    const replayed = await runAttestationFetch({ host, root: sim.nsm.rootPemPath, fetch: async () => new Response('{"document":"AA=="}') })
    expect(replayed.exitCode).toBe(1)
    expect((await runAttestationFetch({ host: 'http://127.0.0.1:9', root: sim.nsm.rootPemPath })).exitCode).toBe(2)
  })

  it('spawned CLI: exit codes 0 / 1 / 2 from a real process', async () => {
    const run = promisify(execFile)
    const runner = join(REPO_ROOT, 'test/vectors/attestationCliRunner.ts')
    const doc = file('spawn.cbor', await sim.nsm.attest({}))
    const exec = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', runner, 'attestation', ...args], { cwd: REPO_ROOT }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      )
    const ok = await exec(['verify', doc, '--root', sim.nsm.rootPemPath, '--json'])
    expect([ok.code, JSON.parse(ok.stdout).verified]).toEqual([0, true])
    const refused = await exec(['verify', doc, '--root', sim.nsm.rootPemPath, '--nonce', 'ff'])
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('attestation_nonce_mismatch')])
    expect((await exec(['verify', doc])).code).toBe(2)
  })
})
