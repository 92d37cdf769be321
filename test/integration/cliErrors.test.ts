import { mkdtempSync, writeFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import YAML from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BaseError } from '../../shared/errors/base.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { waitForApproval } from '../../agent/waitForApproval.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { MERCHANT, OTHER_PAYEE, eip3009, paymentPolicy, runCli, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * The first-hour error cases of issue 20, each through the spawned CLI (`node bin/bursar.mjs …`): what happened,
 * what to do next, and the exit code. Plus the SDK's waitForApproval and the registry hint on a refusal.
 */
describe('CLI errors say what happened and what to do (spawned CLI, real stack)', () => {
  let stack: Stack
  let notBursar: Server
  let notBursarUrl: string
  let ownerKey: Hex
  let wallet: Hex
  let agentKey: AgentKey
  const dir = mkdtempSync(path.join(tmpdir(), 'bursar-cli-errors-'))
  const owner = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(['owner', ...args], { HOME: dir, BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: ownerKey, ...env }, dir)

  beforeAll(async () => {
    stack = await startStack()
    notBursar = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'))
    await new Promise<void>((r) => notBursar.listen(0, '127.0.0.1', r))
    notBursarUrl = `http://127.0.0.1:${(notBursar.address() as AddressInfo).port}`
    ownerKey = generatePrivateKey()
    const account = privateKeyToAccount(ownerKey)
    wallet = (await new OwnerClient(stack.url, account).createWallet('errors')).wallet
    const policy = paymentPolicy({ perTx: '1000', rolling24h: '100000' })
    policy.rules = policy.rules.map((r) => (r.effect === 'allow' ? { ...r, onViolation: 'pending' as const } : r))
    agentKey = (await setupAgent({ host: stack.url, owner: account, wallet, policy })).agentKey
    await waitAgentFloor()
  })
  afterAll(async () => {
    notBursar?.close()
    await stack?.stop()
  })

  it('--host without a scheme is refused before any request, naming the fix', async () => {
    const r = await owner(['wallet', 'list', '--host', '127.0.0.1:18403'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--host 127.0.0.1:18403 has no http:// or https:// scheme: write it as http://127.0.0.1:18403')
    const env = await runCli(['audit', 'query'], { BURSAR_HOST_URL: 'localhost:8402', BURSAR_OWNER_KEY: ownerKey })
    expect(env.code).toBe(1)
    expect(env.stderr).toContain('write it as http://localhost:8402')
  })

  it('a URL that is not a bursar host says so (not "cannot reach" or a bare Not Found)', async () => {
    const r = await owner(['wallet', 'list', '--host', notBursarUrl])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${notBursarUrl} answered HTTP 404 Not Found to GET /v1/wallets without a bursar error: is it a bursar host? (host_not_bursar)`)
    expect(r.stderr).toContain(`curl ${notBursarUrl}/readyz`)
    // (async spawn: this process serves the not-bursar URL)
    const demo = await runCli(['demo', '--host', notBursarUrl])
    expect(demo.code).toBe(2)
    expect(demo.stderr).toContain(`${notBursarUrl} is not a ready bursar host`)
  })

  it('audit query and every command read BURSAR_HOST_URL (audit query ignored it)', async () => {
    const r = await runCli(['audit', 'query', '--wallet', wallet], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: ownerKey })
    expect(r.code, r.stderr).toBe(0)
    const att = await runCli(['attestation', 'fetch', '--allow-debug', '--root', path.join(stack.dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem')], { BURSAR_HOST_URL: stack.url })
    expect(att.code, att.stderr).toBe(0)
    expect(att.stdout).toContain('VERIFIED')
  })

  it('attestation fetch against the simulation without --root says to pass the simulation root', async () => {
    const r = await runCli(['attestation', 'fetch', '--host', stack.url])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^REFUSED \(attestation_/)
    expect(r.stderr).toContain('This host runs in SIMULATION mode')
    expect(r.stderr).toContain('--root <data dir>/sim-pki/SIMULATION-ROOT-NOT-SECURE.pem')
  })

  it('a missing, non-JSON or malformed agent key file says which and what the file should be', async () => {
    const missing = await runCli(['mcp', '--key', path.join(dir, 'nope.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(`cannot read agent key file ${path.join(dir, 'nope.json')}: no such file`)
    writeFileSync(path.join(dir, 'notjson.json'), 'hello')
    const notJson = await runCli(['mcp', '--key', path.join(dir, 'notjson.json')])
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toContain('is not JSON')
    writeFileSync(path.join(dir, 'shape.json'), '{"agentId":"x"}')
    const shape = await runCli(['mcp', '--key', path.join(dir, 'shape.json')])
    expect(shape.code).toBe(2)
    expect(shape.stderr).toMatch(/has the wrong shape: agentId: .*publicKey/)
  })

  it('policy explain on a file without wallet/agentId explains it (it said only "Policy is invalid"); an invalid one points at the docs', async () => {
    const body = paymentPolicy({ perTx: '1000', rolling24h: '100000' })
    writeFileSync(path.join(dir, 'template.yaml'), YAML.stringify(body))
    const action = { kind: 'eip3009', primaryType: 'TransferWithAuthorization', chainId: 84532, asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', from: wallet, payTo: MERCHANT, amount: '10', validAfter: 0, validBefore: Math.floor(Date.now() / 1000) + 300, nonce: `0x${'11'.repeat(32)}` }
    writeFileSync(path.join(dir, 'req.json'), JSON.stringify(action))
    const r = await runCli(['owner', 'policy', 'explain', '--policy', path.join(dir, 'template.yaml'), '--request', path.join(dir, 'req.json')])
    expect(r.stderr).toContain('names no wallet: explaining for')
    expect(r.stderr).toContain('names no agentId')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/allow/i)
    writeFileSync(path.join(dir, 'bad.yaml'), YAML.stringify({ ...body, budgets: 'lots' }))
    const bad = await runCli(['owner', 'policy', 'explain', '--policy', path.join(dir, 'bad.yaml'), '--request', path.join(dir, 'req.json')])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/budgets: /)
    expect(bad.stderr).toContain('docs/policy.md')
  })

  it('an already-expired policy is refused with the date and the fix (it was installed silently)', async () => {
    writeFileSync(path.join(dir, 'expired.yaml'), YAML.stringify({ ...paymentPolicy({ perTx: '1000', rolling24h: '100000', version: 7 }), expiresAt: Date.now() - 60_000 }))
    const r = await owner(['policy', 'set', '--wallet', wallet, '--agent', agentKey.agentId, path.join(dir, 'expired.yaml')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/expired\.yaml expired at \d{4}-\d\d-\d\dT.*\(policy_expired\)/)
    expect(r.stderr).toContain('Set a later expiresAt')
  })

  it('revoke (permanent) asks for confirmation: off a terminal it needs --yes and does nothing without it', async () => {
    const r = await owner(['agent', 'revoke', '--wallet', wallet, '--agent', agentKey.agentId])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Not on a terminal, so nothing was done (confirmation_required)')
    expect(r.stderr).toContain('Pass --yes')
    const list = await owner(['agent', 'list', '--wallet', wallet])
    expect(list.stdout).toMatch(new RegExp(`${agentKey.agentId}.*active`))
  })

  it('SDK waitForApproval resolves with the owner\'s decision; a token outside the registry names `tokens:`', async () => {
    const pay = (to: Hex, value: bigint) => requestSignature({ host: stack.url, agentKey, wallet, operation: eip3009({ wallet, value, to }) })
    const pending = (await pay(OTHER_PAYEE, 5n).catch((e: unknown) => e)) as { code: string; pendingId: string }
    expect(pending.code).toBe('approval_pending')
    const waiting = waitForApproval({ pendingId: pending.pendingId, agentKey, host: stack.url, wallet, intervalMs: 200, timeoutMs: 20_000 })
    await new Promise((r) => setTimeout(r, 500))
    const approve = await owner(['approve', pending.pendingId])
    expect(approve.code, approve.stderr).toBe(0)
    expect(await waiting).toEqual({ pendingId: pending.pendingId, status: 'approved' })
    expect((await pay(OTHER_PAYEE, 5n)).signature).toMatch(/^0x/)

    const second = (await pay(OTHER_PAYEE, 6n).catch((e: unknown) => e)) as { pendingId: string }
    expect((await owner(['reject', second.pendingId])).code).toBe(0)
    expect((await waitForApproval({ pendingId: second.pendingId, agentKey, host: stack.url, wallet, intervalMs: 200 })).status).toBe('rejected')
    const third = (await pay(OTHER_PAYEE, 7n).catch((e: unknown) => e)) as { pendingId: string }
    expect((await waitForApproval({ pendingId: third.pendingId, agentKey, host: stack.url, wallet, timeoutMs: 300, intervalMs: 100 })).status).toBe('timeout')

    const op = eip3009({ wallet, value: 1n })
    op.typedData.domain.verifyingContract = '0x1111111111111111111111111111111111111111'
    const unknownToken = await requestSignature({ host: stack.url, agentKey, wallet, operation: op }).catch((e: unknown) => e)
    expect((unknownToken as BaseError).code).toMatch(/not_in_registry$/)
    expect((unknownToken as BaseError).message).toContain('under `tokens:`')
  })
})
