/** TEST HELPER: a simulated NSM (real-format documents, simulation PKI), the fake KMS, and a real @aws-sdk/client-kms pointed at it. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KMSClient } from '@aws-sdk/client-kms'
import { type MockNsm, createMockNsm } from '../../sim/mockNsm.js'
import { type KmsServer, type StartKmsServerParameters, startKmsServer } from '../fixtures/kmsServer.js'

export type KmsTestEnv = { nsm: MockNsm; rootPem: string; server: KmsServer; client: KMSClient; close(): Promise<void> }

/** Starts a mock NSM and the KMS fixture trusting exactly the mock NSM's simulation root. */
export async function startKmsTestEnv(options: Omit<StartKmsServerParameters, 'attestationRoot'> = {}): Promise<KmsTestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-kms-'))
  const measuredFile = join(dir, 'enclave.mjs')
  writeFileSync(measuredFile, 'export default "bursar enclave under test"\n')
  const nsm = createMockNsm({ pkiDir: join(dir, 'pki'), measuredFile })
  await nsm.attest({}) // creates the simulation PKI on disk
  const rootPem = readFileSync(nsm.rootPemPath, 'utf8')
  const server = await startKmsServer({ ...options, attestationRoot: rootPem })
  const client = new KMSClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFIXTURE', secretAccessKey: 'fixture-secret' },
    maxAttempts: 1,
  })
  return {
    nsm,
    rootPem,
    server,
    client,
    async close() {
      client.destroy()
      await server.close()
    },
  }
}
