import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAttestationFetch } from '../../cli/commands/attestation.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/awsNitroRootG1.js'
import { computeAttestationUserData } from '../../shared/attestation/commitment.js'
import { verifyAttestation } from '../../shared/attestation/verifyAttestation.js'
import { type Stack, repoRoot, startStack } from '../helpers/startStack.js'

const owner = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba')

describe('attestation through the real host and simulated enclave', () => {
  let stack: Stack
  let rootPem: string
  beforeAll(async () => {
    stack = await startStack()
    rootPem = path.join(stack.dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')
    await new OwnerClient(stack.url, owner).createWallet('attested')
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('GET /v1/attestation binds nonce, receipt key and the commitment; PCR0 is the hash of the running enclave bundle', async () => {
    const nonce = 'ab'.repeat(32)
    const body = (await (await fetch(`${stack.url}/v1/attestation?nonce=${nonce}`)).json()) as {
      document: string
      userDataInputs: Parameters<typeof computeAttestationUserData>[0]
      signerPublicKey: string
    }
    const doc = Buffer.from(body.document, 'base64')
    const v = verifyAttestation(doc, {
      root: readFileSync(rootPem, 'utf8'),
      maxAgeMs: 60_000,
      expectedNonce: Buffer.from(nonce, 'hex'),
      expectedUserData: computeAttestationUserData(body.userDataInputs),
      expectedPublicKey: Buffer.from(body.signerPublicKey.slice(2), 'hex'),
    })
    const bundle = readFileSync(path.join(repoRoot, 'dist/enclave.sim.mjs'))
    expect(Buffer.from(v.pcrs.get(0)!).toString('hex')).toBe(createHash('sha384').update(bundle).digest('hex'))
    expect(body.userDataInputs.wallets.length).toBe(1)
    // The same document is refused against the AWS root, and with another nonce.
    expect(() => verifyAttestation(doc, { root: AWS_NITRO_ROOT_G1_PEM, maxAgeMs: 60_000 })).toThrow()
    expect(() => verifyAttestation(doc, { root: readFileSync(rootPem, 'utf8'), maxAgeMs: 60_000, expectedNonce: Buffer.alloc(32) })).toThrow(
      /nonce/i,
    )
  })

  it('bursar audit verify --host --root takes the receipt key from a live attestation', async () => {
    const { runAuditVerify } = await import('../../cli/commands/audit.js')
    const ok = await runAuditVerify({ host: stack.url, root: rootPem, token: stack.auditToken })
    expect(ok.stderr).toBe('')
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(/^OK: \d+ entries/)
    // Against the AWS root the simulated enclave's key is not trusted: refused.
    const { writeFileSync, mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const aws = path.join(mkdtempSync(path.join(tmpdir(), 'root-')), 'aws.pem')
    writeFileSync(aws, AWS_NITRO_ROOT_G1_PEM)
    const refused = await runAuditVerify({ host: stack.url, root: aws, token: stack.auditToken })
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toMatch(/attestation refused/)
  })

  it('bursar attestation fetch verifies end to end (function and spawned CLI)', async () => {
    const r = await runAttestationFetch({ host: stack.url, root: rootPem, json: true })
    expect(r.exitCode).toBe(0)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(JSON.stringify(out)).toContain((await new OwnerClient(stack.url, owner).wallets())[0]!.address.toLowerCase())
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), 'attestation', 'fetch', '--host', stack.url, '--root', rootPem], {
      encoding: 'utf8',
    })
    expect(cli.status).toBe(0)
    // Against the AWS root (the default) the simulation document is refused: exit 1.
    const refused = spawnSync(process.execPath, [path.join(repoRoot, 'bin/bursar.mjs'), 'attestation', 'fetch', '--host', stack.url], { encoding: 'utf8' })
    expect(refused.status).toBe(1)
  })
})
