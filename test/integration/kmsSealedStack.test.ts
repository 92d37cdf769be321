import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { createMockNsm } from '../../sim/mockNsm.js'
import { type KmsServer, startKmsServer } from '../fixtures/kmsServer.js'
import { type Stack, repoRoot, startStack } from '../helpers/startStack.js'

const owner = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e')

/**
 * The production KMS sealing path (real @aws-sdk/client-kms, Recipient
 * attestation, CMS to the enclave's RSA key) driven by the real enclave
 * process with the simulated NSM, against a loopback KMS that checks the
 * attestation with the project's verifier.
 */
describe('enclave process sealing through KMS (BURSAR_MODE=nitro with the simulated NSM)', () => {
  let kms: KmsServer
  let stack: Stack
  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-kms-'))
    // Create the simulation PKI up front so the KMS fixture can pin its root.
    await createMockNsm({ pkiDir: path.join(dataDir, 'sim-pki'), measuredFile: path.join(repoRoot, 'package.json') }).attest({})
    kms = await startKmsServer({ attestationRoot: readFileSync(path.join(dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')) })
    stack = await startStack({
      dataDir,
      env: { BURSAR_MODE: 'nitro', BURSAR_KMS_ENDPOINT: kms.endpoint, BURSAR_KMS_KEY_ID: kms.keyId },
    })
  })
  afterAll(async () => {
    await stack?.stop()
    await kms?.close()
  })

  it('seals every snapshot with a KMS data key delivered only to the attested enclave; state survives restarts', async () => {
    const created = await new OwnerClient(stack.url, owner).createWallet('kms')
    const gdk = kms.calls.filter((c) => c.target.endsWith('GenerateDataKey'))
    expect(gdk.length).toBeGreaterThanOrEqual(2) // first start + wallet creation
    expect(gdk.every((c) => c.recipient)).toBe(true)
    expect(gdk.at(-1)!.encryptionContext).toMatchObject({ purpose: 'enclave-state' })
    // Issue 15: the wallet is sealed as its own blob, bound to its address in the EncryptionContext.
    expect(gdk.some((c) => c.encryptionContext?.purpose === 'wallet-state' && c.encryptionContext?.walletId === created.wallet.toLowerCase())).toBe(true)
    await stack.stopHost()
    await stack.stopEnclave()
    await stack.startEnclave()
    await stack.startHost()
    await stack.waitReady()
    // Issue 12 stage B: governance's process unsealed the signer's link key (purpose governance-link) through KMS too,
    // as an attested recipient, for the CreateWallet before the restart.
    const linkGdk = gdk.filter((c) => c.encryptionContext?.purpose === 'governance-link')
    expect(linkGdk.length).toBe(1)
    const decrypts = kms.calls.filter((c) => c.target.endsWith('Decrypt'))
    expect(decrypts.length).toBe(3) // the link key (by governance), then after the restart the core blob and the wallet's blob
    expect(decrypts.every((d) => d.recipient)).toBe(true)
    expect((await new OwnerClient(stack.url, owner).wallets()).map((w) => w.address)).toContain(created.wallet)
  })

  it('a KMS outage surfaces as a typed error at load and nothing stored is lost', async () => {
    await stack.stopHost()
    await stack.stopEnclave()
    kms.set({ fault: { status: 500, type: 'KMSInternalException', times: 1000 } })
    await stack.startEnclave()
    await stack.startHost()
    const res = await fetch(`${stack.url}/readyz`)
    // Until the host's load attempt has failed and says why (was a fixed 1.5 s sleep).
    let body: { ready: boolean; lastError?: string } = { ready: true }
    await expect
      .poll(async () => (body = (await (await fetch(`${stack.url}/readyz`)).json()) as typeof body).lastError ?? '', { timeout: 15_000, interval: 50 })
      .toMatch(/seal_kms/)
    expect(res.status).toBe(503)
    expect(body.ready).toBe(false)
    expect(body.lastError ?? '').toMatch(/seal_kms/)
    // KMS back: the host retries the load and the same stored state comes back.
    kms.set({ fault: undefined })
    await stack.waitReady(30_000)
    expect((await new OwnerClient(stack.url, owner).wallets()).length).toBe(1)
  })
})
