import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { createMockNsm } from '../../sim/mockNsm.js'
import { type KmsServer, startKmsServer } from '../fixtures/kmsServer.js'
import { repoRoot, startStack } from '../helpers/startStack.js'

/** Runs an enclave bundle until it exits (or 20 s), returning its exit code and stderr. */
function runEnclave(bundle: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-kmsalias-'))
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(repoRoot, bundle)], {
      env: { ...process.env, BURSAR_DATA_DIR: dataDir, BURSAR_ENCLAVE_LISTEN: `unix:${path.join(dataDir, 'e.sock')}`, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => c.kill('SIGKILL'), 20_000)
    c.on('close', (code) => {
      clearTimeout(t)
      resolve({ code, stderr })
    })
  })
}

const OWNER = '0x1111111111111111111111111111111111111111'

/**
 * Finding 5 of issue 13: the KMS key was pinned only when configured as an
 * ARN; with an alias, KMS resolves the name with the credentials the host
 * supplies, so a host could point sealing at a key in its own account. Now
 * both entrypoints refuse to start unless the key id is a full key ARN, and
 * every KMS answer must name exactly that key.
 */
describe('KMS key by alias: the enclave refuses to start unless the KMS key is a full ARN', () => {
  let kms: KmsServer
  let dataDir: string
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-kmsalias-stack-'))
    await createMockNsm({ pkiDir: path.join(dataDir, 'sim-pki'), measuredFile: path.join(repoRoot, 'package.json') }).attest({})
    kms = await startKmsServer({ attestationRoot: readFileSync(path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')) })
  })
  afterAll(async () => {
    await kms?.close()
  })

  it('Nitro entrypoint (dist/enclave.mjs): an alias, an alias ARN or a bare key id exits 2 before touching the NSM', async () => {
    for (const keyId of ['alias/bursar', 'arn:aws:kms:us-east-1:111122223333:alias/bursar', '1234abcd-12ab-34cd-56ef-1234567890ab']) {
      const r = await runEnclave('dist/enclave.mjs', { BURSAR_KMS_KEY_ID: keyId, BURSAR_OWNER_ALLOWLIST: OWNER })
      expect({ keyId, code: r.code }).toEqual({ keyId, code: 2 })
      expect(r.stderr).toMatch(/refusing to start: BURSAR_KMS_KEY_ID must be a full KMS key ARN/)
      expect(r.stderr).not.toMatch(/enclave listening/)
    }
    // And without an owner allowlist (admission control is mandatory in Nitro mode).
    const open = await runEnclave('dist/enclave.mjs', { BURSAR_KMS_KEY_ID: kms.keyId })
    expect(open.code).toBe(2)
    expect(open.stderr).toMatch(/BURSAR_OWNER_ALLOWLIST/)
  }, 60_000)

  it('the KMS sealing path (sim NSM): an alias the KMS knows is still refused at start; the ARN works end to end', async () => {
    const r = await runEnclave('dist/enclave.sim.mjs', { BURSAR_MODE: 'nitro', BURSAR_KMS_ENDPOINT: kms.endpoint, BURSAR_KMS_KEY_ID: 'alias/bursar-test' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/refusing to start: .*keyId must be a full KMS key ARN/)
    expect(kms.calls.length).toBe(0) // it never asked KMS anything

    // Honest configuration: the same KMS, the key's ARN: the stack starts, seals through KMS and serves owners.
    const stack = await startStack({ dataDir, env: { BURSAR_MODE: 'nitro', BURSAR_KMS_ENDPOINT: kms.endpoint, BURSAR_KMS_KEY_ID: kms.keyId } })
    try {
      const owner = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e')
      const created = await new OwnerClient(stack.url, owner).createWallet('kms')
      expect(created.receipt.act).toBe('CreateWallet')
      expect(kms.calls.some((c) => c.target.endsWith('GenerateDataKey'))).toBe(true)
    } finally {
      await stack.stop()
    }
  }, 60_000)
})
