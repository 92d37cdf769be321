import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runNitroCli } from './nitro.js'

// SAMPLE measurements (invented values in nitro-cli's shape), not from a real EIF.
const sample = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy/nitro/sample-describe-eif.SAMPLE.json')
const sha384 = (s: string) => createHash('sha384').update(s).digest('hex')
const dir = mkdtempSync(join(tmpdir(), 'bursar-nitro-cli-'))
const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('bursar nitro pcrs', () => {
  it('prints the PCRs and a key-policy condition block (JSON)', async () => {
    const r = await runNitroCli(['nitro', 'pcrs', '--eif-measurements', sample, '--json'])
    expect(r.exitCode).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.pcrs).toEqual({ PCR0: sha384('sample pcr0'), PCR1: sha384('sample pcr1'), PCR2: sha384('sample pcr2'), PCR8: sha384('sample pcr8') })
    expect(out.keyPolicyCondition).toEqual({
      StringEqualsIgnoreCase: {
        'kms:RecipientAttestation:ImageSha384': sha384('sample pcr0'),
        'kms:RecipientAttestation:PCR1': sha384('sample pcr1'),
        'kms:RecipientAttestation:PCR2': sha384('sample pcr2'),
        'kms:RecipientAttestation:PCR8': sha384('sample pcr8'),
      },
    })
    expect(out.verifyArgs).toEqual(['--pcr', `0=${sha384('sample pcr0')}`, '--pcr', `1=${sha384('sample pcr1')}`, '--pcr', `2=${sha384('sample pcr2')}`, '--pcr', `8=${sha384('sample pcr8')}`])
  })

  it('prints a human summary; an unsigned build-enclave output has no PCR8 and says so', async () => {
    const m = JSON.parse(readFileSync(sample, 'utf8')).Measurements
    const unsigned = file('build.json', JSON.stringify({ Measurements: { HashAlgorithm: m.HashAlgorithm, PCR0: m.PCR0.toUpperCase(), PCR1: m.PCR1, PCR2: m.PCR2 } }))
    const r = await runNitroCli(['pcrs', '--eif-measurements', unsigned])
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain(`PCR0  ${m.PCR0}`)
    expect(r.stdout).toContain('no PCR8')
    expect(r.stdout).not.toContain('kms:RecipientAttestation:PCR8')
    const block = r.stdout.slice(r.stdout.indexOf('{'), r.stdout.indexOf('}\n}') + 3)
    expect(JSON.parse(block).StringEqualsIgnoreCase['kms:RecipientAttestation:ImageSha384']).toBe(m.PCR0)
  })

  it('refuses what is not nitro-cli SHA-384 measurements', async () => {
    const m = JSON.parse(readFileSync(sample, 'utf8')).Measurements
    const cases = [
      'not json',
      JSON.stringify({ Measurements: { ...m, HashAlgorithm: 'Sha256 { ... }' } }),
      JSON.stringify({ Measurements: { ...m, PCR1: 'abcd' } }),
      JSON.stringify({ Measurements: { HashAlgorithm: m.HashAlgorithm, PCR0: m.PCR0 } }),
    ]
    for (const [i, text] of cases.entries()) {
      const r = await runNitroCli(['pcrs', '--eif-measurements', file(`bad${i}.json`, text), '--json'])
      expect(r.exitCode).toBe(1)
      expect(JSON.parse(r.stdout).error.code).toBe('nitro_measurements_invalid')
    }
    expect((await runNitroCli(['pcrs', '--eif-measurements', join(dir, 'missing.json')])).exitCode).toBe(2)
  })
})
