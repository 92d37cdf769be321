import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CreateMockNsmParameters, createMockNsm, type MockNsm } from '../../sim/mockNsm.js'

export type TestMockNsm = { nsm: MockNsm; dir: string; pkiDir: string; measuredFile: string; rootPem: () => string }

/** A simulation NSM in a fresh temp dir, measuring a small fake enclave bundle. */
export function createTestMockNsm(overrides: Partial<CreateMockNsmParameters> & { bundle?: string } = {}): TestMockNsm {
  const dir = mkdtempSync(join(tmpdir(), 'bursar-attest-'))
  const measuredFile = join(dir, 'enclave.bundle.js')
  writeFileSync(measuredFile, overrides.bundle ?? 'export const enclave = "bursar test bundle v1"\n')
  const pkiDir = overrides.pkiDir ?? join(dir, 'sim-pki')
  const nsm = createMockNsm({ pkiDir, measuredFile, now: overrides.now })
  return { nsm, dir, pkiDir, measuredFile, rootPem: () => readFileSync(nsm.rootPemPath, 'utf8') }
}
