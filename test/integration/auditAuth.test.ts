import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { runAuditTail } from '../../cli/commands/audit.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parseAuditCsv, parseAuditJsonl } from '../../shared/audit/exportFormats.js'
import { verifyAuditCheckpoint } from '../../shared/audit/verifyAuditCheckpoint.js'
import { verifyAuditLog } from '../../shared/audit/verifyAuditLog.js'
import { toEd25519PublicKey } from '../../shared/audit/toEd25519PublicKey.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { type Stack, startStack } from '../helpers/startStack.js'

const ALICE_KEY = '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'
const alice = privateKeyToAccount(ALICE_KEY)
const bob = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e')

type Page = { scope: string; entries: { seq: number; wallet: string | null; event: string; hash: string }[]; checkpoints: { seq: number }[]; next: number | null }

/**
 * Audit reads on the real host (BURSAR_AUDIT_AUTH=owner, the default):
 * owners see their own wallets' entries with an EIP-712 read token, the
 * operator token reads (and exports) the whole chain, the head is public.
 */
describe('audit reads: owner read tokens and the operator token (real host + enclave)', () => {
  let stack: Stack
  let aliceWallets: string[]
  let bobWallet: string
  const ownerHeader = async (account = alice, expiresAt = Date.now() + 60_000) => ({
    authorization: `${AUDIT_READ_SCHEME} ${await signAuditReadToken({ account, host: stack.url, expiresAt })}`,
  })
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.url}${path}`, { headers })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }

  beforeAll(async () => {
    stack = await startStack({ env: { BURSAR_AUDIT_AUTH: 'owner' } })
    const a = new OwnerClient(stack.url, alice)
    aliceWallets = [(await a.createWallet('a1')).wallet.toLowerCase(), (await a.createWallet('a2')).wallet.toLowerCase()]
    bobWallet = (await new OwnerClient(stack.url, bob).createWallet('b1')).wallet.toLowerCase()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('no credentials → 401 with a code and what to do; a bad bearer token → 401', async () => {
    for (const path of ['/v1/audit/entries', '/v1/audit/export?format=jsonl', '/v1/audit/export?format=csv']) {
      const r = await get(path)
      expect(r.status).toBe(401)
      const body = JSON.parse(r.text) as { code: string; message: string }
      expect(body.code).toBe('audit_read_unauthorized')
      expect(body.message).toContain('Bursar-Owner')
      expect(r.text).not.toContain('wallet_created')
    }
    const bad = await get('/v1/audit/entries', { authorization: `Bearer ${stack.auditToken}x` })
    expect(bad.status).toBe(401)
    expect(JSON.parse(bad.text).code).toBe('audit_operator_token_invalid')
  })

  it("an owner token sees exactly that owner's wallets; another owner's token sees none of them", async () => {
    const mine = JSON.parse((await get('/v1/audit/entries?limit=1000', await ownerHeader(alice))).text) as Page
    expect(mine.scope).toBe('owner')
    expect(mine.entries.map((e) => e.event)).toEqual(['wallet_created', 'wallet_created'])
    expect(new Set(mine.entries.map((e) => e.wallet?.toLowerCase()))).toEqual(new Set(aliceWallets))

    const theirs = JSON.parse((await get('/v1/audit/entries?limit=1000', await ownerHeader(bob))).text) as Page
    expect(theirs.entries.map((e) => e.wallet?.toLowerCase())).toEqual([bobWallet])
    // Asking for Alice's wallet with Bob's token is refused outright.
    const cross = await get(`/v1/audit/entries?wallet=${aliceWallets[0]}`, await ownerHeader(bob))
    expect(cross.status).toBe(403)
    expect(JSON.parse(cross.text).code).toBe('audit_wallet_not_owned')
    // An owner with no wallet sees nothing at all.
    const stranger = privateKeyToAccount('0x1c0a7f7e1ab2e3d4c5b6a79881726354efcdab9078563412f0e1d2c3b4a59687')
    const none = JSON.parse((await get('/v1/audit/entries', await ownerHeader(stranger))).text) as Page
    expect(none.entries).toEqual([])
    // Bob's owner export holds only Bob's entry.
    const bobExport = await get('/v1/audit/export?format=jsonl', await ownerHeader(bob))
    expect(bobExport.headers.get('x-bursar-audit-scope')).toBe('owner')
    const parsed = parseAuditJsonl(bobExport.text)
    expect(parsed.entries.map((e) => e.wallet?.toLowerCase())).toEqual([bobWallet])
    // One wallet's thread (issue 15 step 2): the owner's own wallet, not another owner's.
    const thread = await get(`/v1/audit/export?format=jsonl&wallet=${aliceWallets[1]}`, await ownerHeader(alice))
    expect(thread.status).toBe(200)
    expect(thread.headers.get('x-bursar-audit-scope')).toBe('wallet')
    expect(parseAuditJsonl(thread.text).entries.map((e) => [e.wallet?.toLowerCase(), e.walletSeq])).toEqual([[aliceWallets[1], 1]])
    const crossThread = await get(`/v1/audit/export?format=jsonl&wallet=${aliceWallets[0]}`, await ownerHeader(bob))
    expect(crossThread.status).toBe(403)
    expect(JSON.parse(crossThread.text).code).toBe('audit_wallet_not_owned')
    expect(crossThread.text).not.toContain('wallet_created')
  })

  it('pagination with after/limit walks the owner view in seq order', async () => {
    const h = await ownerHeader(alice)
    const p1 = JSON.parse((await get('/v1/audit/entries?limit=1', h)).text) as Page
    expect(p1.entries.length).toBe(1)
    expect(p1.next).toBe(p1.entries[0]!.seq)
    const p2 = JSON.parse((await get(`/v1/audit/entries?limit=1&after=${p1.next}`, h)).text) as Page
    expect(p2.entries[0]!.seq).toBeGreaterThan(p1.entries[0]!.seq)
    const p3 = JSON.parse((await get(`/v1/audit/entries?limit=1&after=${p2.next}`, h)).text) as Page
    expect(p3.entries).toEqual([])
    expect(p3.next).toBeNull()
    // Time filters take ms or ISO 8601.
    const count = async (qs: string) => (JSON.parse((await get(`/v1/audit/entries?${qs}`, h)).text) as Page).entries.length
    expect(await count('from=0')).toBe(2)
    expect(await count(`from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`)).toBe(0)
    expect(await count('to=2000-01-01T00:00:00Z')).toBe(0)
    expect(await count('verdict=deny')).toBe(0)
    expect((await get('/v1/audit/entries?from=yesterday', h)).status).toBe(400)
  })

  it('expired, too long-lived, forged and malformed owner tokens → 401 with their code', async () => {
    const expired = await get('/v1/audit/entries', await ownerHeader(alice, Date.now() - 1))
    expect(expired.status).toBe(401)
    expect(JSON.parse(expired.text)).toMatchObject({ code: 'audit_token_expired' })
    expect(JSON.parse(expired.text).message).toContain('bursar audit token')
    const long = await get('/v1/audit/entries', await ownerHeader(alice, Date.now() + 48 * 3600_000))
    expect(JSON.parse(long.text).code).toBe('audit_token_lifetime_too_long')
    // Bob signs a token that claims to be Alice's.
    const bobs = JSON.parse(Buffer.from((await ownerHeader(bob)).authorization.split(' ')[1]!, 'base64url').toString())
    const claim = Buffer.from(JSON.stringify({ ...bobs, owner: alice.address })).toString('base64url')
    const forged = await get('/v1/audit/entries', { authorization: `${AUDIT_READ_SCHEME} ${claim}` })
    expect(forged.status).toBe(401)
    expect(JSON.parse(forged.text).code).toBe('audit_token_invalid')
    const junk = await get('/v1/audit/entries', { authorization: `${AUDIT_READ_SCHEME} not-a-token!` })
    expect(JSON.parse(junk.text).code).toBe('audit_token_malformed')
  })

  it('the operator token reads and exports the whole chain, which verifies; the head is public and signed', async () => {
    const op = { authorization: `Bearer ${stack.auditToken}` }
    const all = JSON.parse((await get('/v1/audit/entries?limit=1000', op)).text) as Page
    expect(all.scope).toBe('all')
    expect(all.entries.map((e) => e.event)).toEqual(['enclave_started', 'wallet_created', 'wallet_created', 'wallet_created'])
    const jsonl = await get('/v1/audit/export?format=jsonl', op)
    expect(jsonl.status).toBe(200)
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson')
    const log = parseAuditJsonl(jsonl.text)
    const { receiptPublicKey } = JSON.parse((await get('/readyz')).text) as { receiptPublicKey: string }
    const verdict = verifyAuditLog({ ...log, publicKey: receiptPublicKey })
    expect(verdict).toMatchObject({ ok: true, count: 4 })
    const csv = await get('/v1/audit/export?format=csv', op)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    expect(parseAuditCsv(csv.text).map((r) => r.event)).toEqual(all.entries.map((e) => e.event))

    const head = JSON.parse((await get('/v1/audit/head')).text) as { checkpoint: { seq: number; head: string; time: number; signature: string } }
    expect(head.checkpoint.seq).toBe(3)
    expect(head.checkpoint.head).toBe(all.entries[3]!.hash)
    expect(verifyAuditCheckpoint(head.checkpoint, toEd25519PublicKey(receiptPublicKey))).toBe(true)
  })

  it('`bursar audit tail` with the owner key follows only that owner’s entries, checking each recorded hash', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'bursar-tail-')), 'owner.key')
    writeFileSync(keyFile, `${ALICE_KEY}\n`, { mode: 0o600 })
    const lines: string[] = []
    const controller = new AbortController()
    const r = await runAuditTail({
      host: stack.url,
      keyFile,
      intervalMs: 50,
      signal: controller.signal,
      write: (l) => {
        lines.push(l)
        if (lines.length === 2) controller.abort()
      },
    })
    expect(r.exitCode).toBe(0)
    expect(lines.length).toBe(2)
    for (const l of lines) expect(l).toContain('wallet_created')
    expect(lines.join('\n')).not.toContain('!!')

    // With the operator token it follows the whole chain, link by link, without a false alarm.
    const all: string[] = []
    const stop = new AbortController()
    const r2 = await runAuditTail({
      host: stack.url,
      token: stack.auditToken,
      intervalMs: 50,
      signal: stop.signal,
      write: (l) => {
        all.push(l)
        if (all.length === 4) stop.abort()
      },
    })
    expect(all.join('\n')).not.toContain('!!')
    expect(r2.exitCode).toBe(0)
    expect(all[0]).toContain('enclave_started')
  })

  it('the routes and their query schema are in the OpenAPI document', async () => {
    const doc = JSON.parse((await get('/openapi.json')).text) as { paths: Record<string, { get?: { parameters?: { name: string }[] } }> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/audit/entries', '/v1/audit/export', '/v1/audit/head']))
    const names = doc.paths['/v1/audit/entries']!.get!.parameters!.map((p) => p.name)
    expect(names).toEqual(expect.arrayContaining(['wallet', 'agent', 'verdict', 'from', 'to', 'after', 'limit']))
  })
})
