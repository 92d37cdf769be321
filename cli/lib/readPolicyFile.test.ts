import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BaseError } from '../../shared/errors/base.js'
import { readPolicyFile, readWalletPolicyFile } from './readPolicyFile.js'

const dir = mkdtempSync(path.join(tmpdir(), 'bursar-read-policy-'))
const WALLET = '0x2222222222222222222222222222222222222222'
const AGENT = `agt_${'ab'.repeat(20)}`
const write = (name: string, text: string) => {
  const f = path.join(dir, name)
  writeFileSync(f, text)
  return f
}
const failure = (file: string): BaseError => {
  try {
    readPolicyFile({ file, wallet: WALLET, agentId: AGENT })
  } catch (e) {
    return e as BaseError
  }
  throw new TypeError('expected readPolicyFile to throw')
}

describe('readPolicyFile', () => {
  it('binds the policy to the flags, warning when the file named others', () => {
    const f = write('p.yaml', `version: 2\nwallet: "0x1111111111111111111111111111111111111111"\ntimeZone: UTC\ntokens: []\nbudgets: []\nrules: []\n`)
    const r = readPolicyFile({ file: f, wallet: WALLET, agentId: AGENT })
    expect(r.policy).toEqual({ version: 2, wallet: WALLET, agentId: AGENT, timeZone: 'UTC', tokens: [], budgets: [], rules: [] })
    expect(r.warnings).toEqual([`${f} names wallet 0x1111111111111111111111111111111111111111; using --wallet ${WALLET}`])
    const j = write('p.json', JSON.stringify({ version: 1, timeZone: 'UTC', tokens: [], budgets: [], rules: [], agentId: AGENT }))
    expect(readPolicyFile({ file: j, wallet: WALLET, agentId: AGENT }).warnings).toEqual([])
  })

  it('names the file and every offending path; says when YAML read a value as a number', () => {
    const e = failure(write('bad.yaml', 'version: 1\ntimeZone: Mars/Base\ntokens: []\nbudgets:\n  - chainId: 1\n    asset: 0x036CbD53842c5426634e7929541eC2318f3dCF7e\n    perTx: 5\nrules: []\n'))
    expect(e.code).toBe('policy_invalid')
    expect(e.shortMessage).toBe(`Policy file ${path.join(dir, 'bad.yaml')} is invalid`)
    expect(e.metaMessages).toEqual([
      '  timeZone: expected an IANA time zone such as Europe/Berlin',
      expect.stringMatching(/^ {2}budgets\.0\.asset: .*\(YAML read this as the number [0-9.e+]+: quote it/),
      expect.stringMatching(/^ {2}budgets\.0\.perTx: .*\(YAML read this as the number 5: quote it/),
    ])
  })

  it('refuses an unreadable, unparsable or non-mapping file with its own code', () => {
    expect(failure(path.join(dir, 'missing.yaml')).code).toBe('policy_file_unreadable')
    expect(failure(write('broken.json', '{"version": ')).code).toBe('policy_file_unparsable')
    expect(failure(write('list.yaml', '- 1\n- 2\n')).metaMessages).toEqual(['  (root): expected a mapping of policy fields'])
  })
})

describe('readWalletPolicyFile (the same parser, WalletPolicySchema, no agent)', () => {
  it('binds the wallet, and names each offending path with the YAML-number tip', () => {
    const f = write('w.yaml', `version: 1\nwallet: "0x1111111111111111111111111111111111111111"\ntimeZone: UTC\nbudgets:\n  - chainId: 1\n    asset: native\n    rolling24h: "9"\n`)
    const r = readWalletPolicyFile({ file: f, wallet: WALLET })
    expect(r.policy).toEqual({ version: 1, wallet: WALLET, timeZone: 'UTC', budgets: [{ chainId: 1, asset: 'native', rolling24h: '9' }] })
    expect(r.warnings).toEqual([`${f} names wallet 0x1111111111111111111111111111111111111111; using --wallet ${WALLET}`])
    const bad = write('wbad.yaml', 'version: 1\ntimeZone: UTC\nagentId: x\nbudgets:\n  - chainId: 1\n    asset: native\n    perTx: 5\n')
    let e: BaseError | undefined
    try {
      readWalletPolicyFile({ file: bad, wallet: WALLET })
    } catch (err) {
      e = err as BaseError
    }
    expect(e?.code).toBe('policy_invalid')
    expect(e?.metaMessages).toEqual([expect.stringMatching(/^ {2}budgets\.0\.perTx: .*\(YAML read this as the number 5: quote it/), expect.stringMatching(/^ {2}\(root\): .*agentId/)])
    expect(() => readWalletPolicyFile({ file: write('wbroken.json', '{"v'), wallet: WALLET })).toThrow(expect.objectContaining({ code: 'policy_file_unparsable' }))
  })
})

describe('checkPolicyText (the console editor and the CLI)', () => {
  it('puts every issue on its line; a syntax error too', async () => {
    const { checkPolicyText } = await import('./checkPolicyText.js')
    const text = 'version: 2\ntimeZone: UTC\ntokens: []\nbudgets:\n  - chainId: 1\n    asset: native\n    perTx: 5\nrules: []\nvelocity:\n  perMinute: 0\n'
    const r = checkPolicyText({ text, format: 'yaml', wallet: WALLET, agentId: AGENT, name: 'p' })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.issues.map((i) => [i.path, i.line])).toEqual([
      ['budgets.0.perTx', 7],
      ['velocity.perMinute', 10],
    ])
    const broken = checkPolicyText({ text: 'version: 1\nrules: [\n', format: 'yaml', wallet: WALLET, agentId: AGENT, name: 'p' })
    expect(broken).toMatchObject({ ok: false, code: 'policy_file_unparsable' })
    if (!broken.ok) expect(broken.issues[0]!.line).toBeGreaterThan(1)
  })
})
