import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { MERCHANT, OTHER_PAYEE, type StackWithAgent, eip3009, paymentPolicy, stackWithAgent, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (what a Prometheus server accepts): HELP/TYPE
 * before a family's samples, families contiguous, valid metric and label names, escaped label values, float values,
 * no duplicate series, histograms with cumulative buckets ending in +Inf = _count and a _sum. Throws on any breach.
 */
type Sample = { name: string; labels: Record<string, string>; value: number }
type Family = { name: string; type: string; help: string; samples: Sample[] }

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY
  if (s === '-Inf') return Number.NEGATIVE_INFINITY
  if (s === 'NaN') return Number.NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${s} in: ${line}`)
  return Number(s)
}

function parseLabels(s: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {}
  let i = 1 // after '{'
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) }
    const eq = s.indexOf('=', i)
    if (eq < 0) throw new Error(`bad labels in: ${line}`)
    const name = s.slice(i, eq)
    if (!LABEL.test(name) || name in labels) throw new Error(`bad or duplicate label ${name} in: ${line}`)
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`)
    let v = ''
    let j = eq + 2
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j]
        if (n === 'n') v += '\n'
        else if (n === '\\' || n === '"') v += n
        else throw new Error(`bad escape in: ${line}`)
      } else v += s[j]
    }
    if (j >= s.length) throw new Error(`unterminated label value in: ${line}`)
    labels[name] = v
    i = j + 1
    if (s[i] === ',') i++
    else if (s[i] !== '}') throw new Error(`expected , or } in: ${line}`)
  }
}

function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline')
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  let current: Family | undefined
  const familyOf = (sample: string): Family => {
    for (const name of [sample, sample.replace(/_(bucket|sum|count)$/, '')]) {
      const f = families.get(name)
      if (f && (name === sample || f.type === 'histogram' || f.type === 'summary')) return f
    }
    throw new Error(`sample ${sample} has no TYPE before it`)
  }
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (!m) continue // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string]
      if (!METRIC.test(name)) throw new Error(`bad metric name ${name}`)
      let f = families.get(name)
      if (!f) {
        f = { name, type: 'untyped', help: '', samples: [] }
        families.set(name, f)
      } else if (f.samples.length > 0) throw new Error(`${kind} for ${name} after its samples`)
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type ${rest} for ${name}`)
        f.type = rest
      } else f.help = rest
      current = f
      continue
    }
    const nameEnd = line.search(/[{ ]/)
    const name = line.slice(0, nameEnd)
    if (!METRIC.test(name)) throw new Error(`bad sample name in: ${line}`)
    let rest = line.slice(nameEnd)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line))
    const parts = rest.trim().split(/ +/)
    if (parts.length < 1 || parts.length > 2 || !rest.startsWith(' ')) throw new Error(`bad sample: ${line}`)
    const value = parseValue(parts[0]!, line)
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp in: ${line}`)
    const f = familyOf(name)
    if (current !== f) throw new Error(`samples of ${f.name} are not contiguous (at: ${line})`)
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
    if (seen.has(key)) throw new Error(`duplicate series ${key}`)
    seen.add(key)
    f.samples.push({ name, labels, value })
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>()
  const keyOf = (l: Record<string, string>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== 'le').sort())
  for (const s of f.samples) series.set(keyOf(s.labels), [...(series.get(keyOf(s.labels)) ?? []), s])
  for (const [key, ss] of series) {
    const buckets = ss.filter((s) => s.name === `${f.name}_bucket`)
    const count = ss.find((s) => s.name === `${f.name}_count`)
    const sum = ss.find((s) => s.name === `${f.name}_sum`)
    if (!count || !sum || buckets.length === 0) throw new Error(`histogram ${f.name}${key} lacks _bucket/_sum/_count`)
    let prev = -1
    let prevLe = Number.NEGATIVE_INFINITY
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? 'x', `${f.name} le`)
      if (le <= prevLe || b.value < prev) throw new Error(`histogram ${f.name}${key} buckets not cumulative/increasing`)
      prev = b.value
      prevLe = le
    }
    if (prevLe !== Number.POSITIVE_INFINITY || prev !== count.value) throw new Error(`histogram ${f.name}${key}: +Inf bucket ≠ _count`)
  }
}

const value = (fams: Map<string, Family>, name: string, labels: Record<string, string> = {}, sample = name): number => {
  const f = fams.get(name)
  const s = f?.samples.find((x) => x.name === sample && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  return s?.value ?? 0
}

const DEAD = '0x000000000000000000000000000000000000dEaD' as const

describe('host operations: /metrics (Prometheus), JSON logs with request ids, /readyz current, OpenAPI', () => {
  let s: StackWithAgent
  const pay = (to: `0x${string}`, value: bigint) =>
    requestSignature({ host: s.stack.url, agentKey: s.agentKey, wallet: s.wallet, operation: eip3009({ wallet: s.wallet, value, to }) })
  const scrape = async () => {
    const res = await fetch(`${s.stack.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parsePrometheusText(await res.text())
  }

  beforeAll(async () => {
    const policy = paymentPolicy({ perTx: '100', rolling24h: '1000' })
    // A payment to anyone but the merchant goes to the owner (pending) instead of being refused outright.
    // A deny rule refuses outright (nothing overrides it).
    policy.rules = [{ id: 'never-dead', effect: 'deny', payTo: { in: [DEAD] } }, ...policy.rules.map((r) => (r.effect === 'allow' ? { ...r, onViolation: 'pending' as const } : r))]
    s = await stackWithAgent(policy, { env: { BURSAR_LOG_LEVEL: 'info' } })
    await waitAgentFloor()
  })
  afterAll(async () => {
    await s?.stack.stop()
  })

  it('the parser is strict: it refuses what Prometheus refuses', () => {
    expect(() => parsePrometheusText('# TYPE a counter\na 1')).toThrow(/newline/)
    expect(() => parsePrometheusText('a 1\n')).toThrow(/no TYPE/)
    expect(() => parsePrometheusText('# TYPE a counter\na{b="1} 1\n')).toThrow()
    expect(() => parsePrometheusText('# TYPE a counter\na{1b="x"} 1\n')).toThrow(/label/)
    expect(() => parsePrometheusText('# TYPE a counter\na one\n')).toThrow(/value/)
    expect(() => parsePrometheusText('# TYPE a counter\na 1\na 2\n')).toThrow(/duplicate/)
    expect(() => parsePrometheusText('# TYPE a counter\n# TYPE b gauge\nb 1\na 1\n')).toThrow(/contiguous/)
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/)
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n')).toThrow(/_count/)
    expect(parsePrometheusText('# HELP a x\n# TYPE a gauge\na{l="q\\"\\n"} -1.5e3 1700000000000\n').get('a')?.samples[0]).toEqual({ name: 'a', labels: { l: 'q"\n' }, value: -1500 })
  })

  it('counters move after a payment, a refusal and a pending request; latency, persist, phase and state are exposed', async () => {
    const before = await scrape()
    const readyBefore = (await (await fetch(`${s.stack.url}/readyz`)).json()) as { auditHead: { seq: number; hash: string } | null; stateVersion: number }

    await pay(MERCHANT, 60n) // allowed
    const refused = (await pay(DEAD, 5n).then(() => ({ code: 'signed?!' }), (e: { code: string }) => e)) // a deny rule: denied
    const pending = (await pay(OTHER_PAYEE, 10n).then(() => ({ code: 'signed?!' }), (e: { code: string }) => e)) // not the merchant: to the owner
    expect(pending.code).toBe('approval_pending')
    expect(refused.code).toMatch(/^policy_/)

    const after = await scrape()
    const sig = 'bursar_signatures_total'
    expect(value(after, sig, { outcome: 'allowed', code: 'ok' }) - value(before, sig, { outcome: 'allowed', code: 'ok' })).toBe(1)
    expect(value(after, sig, { outcome: 'denied', code: refused.code }) - value(before, sig, { outcome: 'denied', code: refused.code })).toBe(1)
    expect(value(after, sig, { outcome: 'pending', code: 'approval_pending' })).toBe(1)
    expect(value(after, 'bursar_pending_approvals')).toBe(1)

    const httpCount = (f: Map<string, Family>, status: string) =>
      value(f, 'bursar_http_request_duration_seconds', { route: '/v1/agent/sign', method: 'POST', status_code: status }, 'bursar_http_request_duration_seconds_count')
    expect(httpCount(after, '200') - httpCount(before, '200')).toBe(1)
    expect(httpCount(after, '403') + httpCount(after, '429') + httpCount(after, '202')).toBeGreaterThanOrEqual(2)
    const enclaveCount = (f: Map<string, Family>) =>
      value(f, 'bursar_enclave_request_duration_seconds', { type: 'agentSign' }, 'bursar_enclave_request_duration_seconds_count')
    expect(enclaveCount(after) - enclaveCount(before)).toBe(3)
    expect(value(after, 'bursar_persist_duration_seconds', {}, 'bursar_persist_duration_seconds_count')).toBeGreaterThan(
      value(before, 'bursar_persist_duration_seconds', {}, 'bursar_persist_duration_seconds_count'),
    )
    expect(value(after, 'bursar_persist_entries_total') - value(before, 'bursar_persist_entries_total')).toBeGreaterThanOrEqual(3)
    expect(value(after, 'bursar_enclave_phase', { phase: 'ready' })).toBe(1)
    expect(value(after, 'bursar_enclave_phase', { phase: 'loading' })).toBe(0)
    expect(value(after, 'bursar_enclave_ready')).toBe(1)
    expect(after.get('bursar_snapshot_bytes')?.type).toBe('gauge')
    expect(after.get('bursar_process_resident_memory_bytes')?.type).toBe('gauge')

    // /readyz moves with every decision (it reported start-up values forever), and agrees with the metrics.
    const readyAfter = (await (await fetch(`${s.stack.url}/readyz`)).json()) as { auditHead: { seq: number; hash: string }; stateVersion: number }
    expect(readyAfter.auditHead.seq).toBeGreaterThanOrEqual((readyBefore.auditHead?.seq ?? -1) + 3)
    expect(value(after, 'bursar_audit_head_seq')).toBe(readyAfter.auditHead.seq)
    const head = (await (await fetch(`${s.stack.url}/v1/audit/head`)).json().catch(() => null)) as { seq?: number; hash?: string } | null
    if (head?.seq !== undefined) expect(head.hash).toBe(readyAfter.auditHead.hash)
  })

  it('logs one JSON line per request on stderr, bound to the request id it echoes, with no credentials or signed bodies', async () => {
    const res = await fetch(`${s.stack.url}/readyz`, { headers: { 'x-request-id': 'ops-test-42' } })
    expect(res.headers.get('x-request-id')).toBe('ops-test-42')
    const generated = await fetch(`${s.stack.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } })
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    await fetch(`${s.stack.url}/v1/audit/entries?after=-1`, { headers: { authorization: `Bearer ${s.stack.auditToken}` } })
    const logLines = () =>
      s.stack.logs
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{"level"') && l.endsWith('}'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    // The host's stderr reaches this process through a pipe: polled (suite39: was a fixed 200 ms).
    await expect.poll(() => logLines().some((l) => l.route === '/v1/audit/entries'), { timeout: 10_000 }).toBe(true)
    const lines = logLines()
    const mine = lines.find((l) => l.reqId === 'ops-test-42')
    expect(mine).toMatchObject({ msg: 'request', method: 'GET', route: '/readyz', status: 200, service: 'bursar-host' })
    expect(typeof mine?.ms).toBe('number')
    const signs = lines.filter((l) => l.route === '/v1/agent/sign')
    expect(signs.length).toBeGreaterThanOrEqual(3)
    const text = s.stack.logs.join('')
    expect(text).not.toContain(s.stack.auditToken)
    expect(text).not.toMatch(/[0-9a-f]{128}/) // no Ed25519 request signature
    expect(text).not.toContain(s.agentKey.privateKey)
  })

  it('OpenAPI documents error responses, security schemes and the signed-request format', async () => {
    const doc = (await (await fetch(`${s.stack.url}/openapi.json`)).json()) as {
      components: { securitySchemes: Record<string, { type: string }>; schemas: Record<string, { properties?: Record<string, unknown>; oneOf?: unknown[]; anyOf?: unknown[] }> }
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[]; description?: string }>>
    }
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['agentSignature', 'ownerAct', 'ownerReadToken', 'operatorToken']))
    expect(doc.components.schemas.Error?.properties).toHaveProperty('code')
    const agentRequest = JSON.stringify(doc.components.schemas.AgentRequest)
    for (const field of ['agentId', 'nonce', 'issuedAt', 'expiresAt', 'signTypedData']) expect(agentRequest).toContain(field)
    const sign = doc.paths['/v1/agent/sign']!.post!
    expect(sign.responses['403']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } })
    expect(sign.security).toEqual([{ agentSignature: [] }])
    expect(sign.description).toContain('Ed25519')
    expect(doc.paths['/v1/audit/entries']!.get!.security).toEqual(expect.arrayContaining([{ operatorToken: [] }]))
    expect(doc.paths['/metrics']).toBeDefined()
  })
})
