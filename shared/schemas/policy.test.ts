import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../canonical/canonicalJson.js'
import { PolicySchema, parsePolicy, PolicyInvalidError, policyHash } from './policy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { createHash } from 'node:crypto'

const example = parseYaml(readFileSync(new URL('../../examples/policy.example.yaml', import.meta.url), 'utf8'))

function issues(value: unknown): string[] {
  try {
    parsePolicy(value)
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyInvalidError)
    return (e as PolicyInvalidError).metaMessages ?? []
  }
  throw new PolicyInvalidError(['expected a parse failure'])
}

describe('PolicySchema', () => {
  it('parses the example policy as the identity (hash of parsed = hash of what the owner wrote)', () => {
    const p = parsePolicy(example)
    expect(p).toEqual(example)
    expect(canonicalJson(p)).toBe(canonicalJson(example))
    expect(PolicySchema.safeParse(example).success).toBe(true)
  })

  it('policyHash is 0x + sha256(canonical JSON), checked with node:crypto', () => {
    const p = parsePolicy(example)
    const expected = `0x${createHash('sha256').update(canonicalJson(example)).digest('hex')}`
    expect(policyHash(p)).toBe(expected)
    expect(sha256(new Uint8Array()).length).toBe(32)
    // Key order does not matter, content does.
    const reordered = Object.fromEntries(Object.entries(example).reverse())
    expect(policyHash(parsePolicy(reordered))).toBe(expected)
    expect(policyHash(parsePolicy({ ...example, version: 4 }))).not.toBe(expected)
  })

  it('parses JSON text too', () => {
    expect(parsePolicy(JSON.stringify(example))).toEqual(example)
    expect(issues('{not json')[0]).toMatch(/^\(root\): not JSON/)
  })

  it.each([
    ['unknown top-level field', { ...example, extra: 1 }, /^\(root\): Unrecognized key/],
    ['version as a string (no coercion)', { ...example, version: '3' }, /^version: /],
    ['version 0', { ...example, version: 0 }, /^version: /],
    ['bad time zone', { ...example, timeZone: 'Mars/Olympus' }, /^timeZone: expected an IANA/],
    ['amount with decimals', { ...example, budgets: [{ ...example.budgets[0], perTx: '1.5' }] }, /^budgets\.0\.perTx: /],
    ['amount with leading zero', { ...example, budgets: [{ ...example.budgets[0], perTx: '01' }] }, /^budgets\.0\.perTx: /],
    ['empty cap', { ...example, budgets: [{ chainId: 1, asset: 'native' }] }, /^budgets\.0: a cap needs/],
    ['duplicate budget', { ...example, budgets: [example.budgets[0], example.budgets[0]] }, /^budgets\.1: duplicate budget/],
    ['duplicate rule id', { ...example, rules: [example.rules[0], example.rules[0]] }, /^rules\.1: duplicate rule id/],
    ['uppercase host', { ...example, rules: [{ ...example.rules[1], hosts: { in: ['API.x.com'] } }] }, /^rules\.0\.hosts\.in\.0: /],
    ['unknown rule field', { ...example, rules: [{ ...example.rules[1], maxAmount: '1' }] }, /^rules\.0: Unrecognized key/],
    ['unknown kind', { ...example, rules: [{ ...example.rules[1], kinds: ['eip2612'] }] }, /^rules\.0\.kinds\.0: /],
    [
      'reversed time window',
      { ...example, rules: [{ ...example.rules[1], timeWindows: [{ days: ['mon'], start: '10:00', end: '09:00' }] }] },
      /^rules\.0\.timeWindows\.0\.end: start must be before end/,
    ],
    [
      'typed_data without matchers',
      { ...example, rules: [{ id: 't', effect: 'allow', kinds: ['typed_data'] }] },
      /^rules\.0\.typedData: allowing typed_data requires/,
    ],
    [
      'pre-approval locked to both payTo and host',
      { ...example, preApprovals: [{ ...example.preApprovals[0], host: 'a.example' }] },
      /^preApprovals\.0: a pre-approval is locked to exactly one/,
    ],
    ['velocity above the counter bound', { ...example, velocity: { perMinute: 10_001 } }, /^velocity\.perMinute: /],
  ])('rejects %s with a precise path', (_name, value, re) => {
    const list = issues(value)
    expect(list.some((m) => re.test(m)), list.join('\n')).toBe(true)
  })

  it('accepts a minimal deny-all policy', () => {
    const p = parsePolicy({
      version: 1,
      wallet: example.wallet,
      agentId: example.agentId,
      timeZone: 'UTC',
      tokens: [],
      budgets: [],
      rules: [{ id: 'kill', effect: 'deny' }],
    })
    expect(p.rules).toHaveLength(1)
  })
})
