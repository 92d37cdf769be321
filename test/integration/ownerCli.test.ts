import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { AgentRevokedError, ApprovalPendingError } from '../../agent/errors.js'
import { loadAgentKey } from '../../agent/loadAgentKey.js'
import { requestSignature } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { type CliResult, MERCHANT, OTHER_PAYEE, TOKEN, eip3009, runCli, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, repoRoot, startStack } from '../helpers/startStack.js'

const EXAMPLE = path.join(repoRoot, 'examples/policy.example.yaml')
const json = <T = Record<string, unknown>>(r: CliResult): T => {
  expect(r.stderr.replace(/^warning: .*\n/gm, '')).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as T
}

/** The owner CLI, spawned for real (`node bin/bursar.mjs owner …`) against a running host + enclave. */
describe('owner CLI against a real stack', () => {
  let stack: Stack
  let dir: string
  let home: string
  let ownerKey: Hex
  let wallet: Hex
  let agentFile: string
  let agentId: string
  /** Runs `bursar owner …` with the key in BURSAR_OWNER_KEY (unless `env` overrides) and the stack's host. */
  const owner = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(['owner', ...args], { HOME: home, BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: ownerKey, ...env }, dir)

  beforeAll(async () => {
    stack = await startStack()
    dir = mkdtempSync(path.join(tmpdir(), 'bursar-cli-'))
    home = path.join(dir, 'home')
    mkdirSync(home)
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('key generate writes a 0600 key under HOME (or --key-file), refuses to overwrite, key show agrees', async () => {
    const gen = json<{ owner: string }>(await owner(['key', 'generate', '--json'], { BURSAR_OWNER_KEY: undefined }))
    const file = path.join(home, '.bursar/owner.key')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    ownerKey = readFileSync(file, 'utf8').trim() as Hex
    expect(privateKeyToAccount(ownerKey).address).toBe(gen.owner)
    const again = await owner(['key', 'generate'], { BURSAR_OWNER_KEY: undefined })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/exists; pass --force/)
    expect(readFileSync(file, 'utf8').trim()).toBe(ownerKey)
    const other = path.join(dir, 'other.key')
    const gen2 = json<{ owner: string }>(await owner(['key', 'generate', '--key-file', other, '--json']))
    expect(gen2.owner).not.toBe(gen.owner)
    const [showOther, showHome, none] = await Promise.all([
      owner(['key', 'show', '--key-file', other]),
      owner(['key', 'show'], { BURSAR_OWNER_KEY: undefined }),
      // No key anywhere: the error says how to get one.
      owner(['wallet', 'list'], { BURSAR_OWNER_KEY: undefined, HOME: path.join(dir, 'empty') }),
    ])
    expect(showOther.stdout.trim()).toBe(gen2.owner)
    expect(showHome.stdout.trim()).toBe(gen.owner)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/owner_key_missing/)
    expect(none.stderr).toMatch(/bursar owner key generate/)
  })

  it('wallet create (key file) / wallet list (BURSAR_OWNER_KEY) / agent add writes a 0600 key file / agent list', async () => {
    const created = json<{ wallet: Hex; owner: string }>(await owner(['wallet', 'create', '--label', 'ops', '--json'], { BURSAR_OWNER_KEY: undefined }))
    wallet = created.wallet
    expect(created.owner).toBe(privateKeyToAccount(ownerKey).address)
    const list = json<{ address: string; label: string }[]>(await owner(['wallet', 'list', '--json']))
    expect(list).toEqual([expect.objectContaining({ address: wallet, label: 'ops' })])
    expect((await owner(['wallet', 'list'])).stdout).toContain(wallet)

    agentFile = path.join(dir, 'agent.json')
    const added = json<{ agentId: string; keyFile: string }>(await owner(['agent', 'add', '--wallet', wallet, '--label', 'bot', '--out', agentFile, '--json']))
    agentId = added.agentId
    expect(statSync(agentFile).mode & 0o777).toBe(0o600)
    const key = loadAgentKey(agentFile)
    expect(key).toMatchObject({ agentId, wallet, host: stack.url })
    // The receipt key the owner's CLI trusts travels in the key file: the SDK verifies every receipt under it (issue 15).
    const ready = (await (await fetch(`${stack.url}/readyz`)).json()) as { receiptPublicKey?: string }
    expect(key.receiptPublicKey).toMatch(/^0x302a300506032b6570032100[0-9a-f]{64}$/)
    expect(key.receiptPublicKey?.toLowerCase()).toBe(ready.receiptPublicKey?.toLowerCase())
    // A key file from before receipt checks gets the key the CLI trusts; another key in it is replaced only on --replace.
    const oldFile = path.join(dir, 'agent-old.json')
    const { receiptPublicKey: _dropped, ...old } = JSON.parse(readFileSync(agentFile, 'utf8')) as Record<string, unknown>
    writeFileSync(oldFile, JSON.stringify(old), { mode: 0o600 })
    const trusted = json<{ receiptPublicKey: string; changed: boolean }>(await owner(['agent', 'trust-receipt-key', oldFile, '--json']))
    expect(trusted).toMatchObject({ receiptPublicKey: key.receiptPublicKey, changed: true })
    expect(loadAgentKey(oldFile)).toMatchObject({ agentId, receiptPublicKey: key.receiptPublicKey })
    expect(statSync(oldFile).mode & 0o777).toBe(0o600)
    expect(json<{ changed: boolean }>(await owner(['agent', 'trust-receipt-key', oldFile, '--json'])).changed).toBe(false)
    const other = `0x302a300506032b6570032100${'11'.repeat(32)}`
    writeFileSync(oldFile, JSON.stringify({ ...old, receiptPublicKey: other }), { mode: 0o600 })
    const refused = await owner(['agent', 'trust-receipt-key', oldFile])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/another enclave receipt key/)
    expect(refused.stderr).toMatch(/--replace/)
    expect(loadAgentKey(oldFile).receiptPublicKey).toBe(other)
    expect((await owner(['agent', 'trust-receipt-key', oldFile, '--replace'])).stdout).toMatch(/now trusts enclave receipt key/)
    expect(loadAgentKey(oldFile).receiptPublicKey).toBe(key.receiptPublicKey)
    const notAKey = path.join(dir, 'not-a-key.json')
    writeFileSync(notAKey, '{"agentId":"nope"}')
    expect((await owner(['agent', 'trust-receipt-key', notAKey])).stderr).toMatch(/is not an agent key file/)
    // An existing key file is never overwritten, and nothing is registered then.
    const clash = await owner(['agent', 'add', '--wallet', wallet, '--out', agentFile])
    expect(clash.code).toBe(1)
    expect(clash.stderr).toMatch(/EEXIST/)
    expect(clash.stderr).toMatch(/--out/)
    expect(loadAgentKey(agentFile).agentId).toBe(agentId)
    const agents = json<{ agentId: string; label: string; status: string }[]>(await owner(['agent', 'list', '--wallet', wallet, '--json']))
    expect(agents).toEqual([expect.objectContaining({ agentId, label: 'bot', status: 'active' })])
  })

  it('policy set: the example YAML (flags bind wallet/agent), a precise error for an invalid policy, version checks; policy show', async () => {
    const r = await owner(['policy', 'set', '--wallet', wallet, '--agent', agentId, EXAMPLE])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/warning: .*names wallet 0x1111111111111111111111111111111111111111; using --wallet/)
    expect(r.stdout).toMatch(/policy v3 installed/)
    const shown = json<{ version: number; hash: string; policy: Record<string, unknown> }>(await owner(['policy', 'show', '--wallet', wallet, '--agent', agentId, '--json']))
    const example = parsePolicy({ ...(YAML.parse(readFileSync(EXAMPLE, 'utf8')) as object), wallet, agentId })
    expect(shown).toEqual({ version: 3, hash: policyHash(example), policy: example })
    expect((await owner(['policy', 'show', '--wallet', wallet, '--agent', agentId])).stdout).toMatch(/^# version 3 {2}hash 0x[0-9a-f]{64}\n/)

    // Invalid: version 0, an unquoted address (YAML reads it as a number), an unknown field.
    const bad = path.join(dir, 'bad.yaml')
    writeFileSync(bad, 'version: 0\ntimeZone: UTC\ntokens: []\nbudgets:\n  - chainId: 84532\n    asset: 0x036CbD53842c5426634e7929541eC2318f3dCF7e\n    perTx: "1"\nrules: []\ncolour: blue\n')
    writeFileSync(path.join(dir, 'broken.yaml'), 'rules: [\n  a: 1\n')
    const set = (file: string, ...extra: string[]) => owner(['policy', 'set', '--wallet', wallet, '--agent', agentId, file, ...extra])
    const [invalid, invalidJson, broken, missing, same] = await Promise.all([set(bad), set(bad, '--json'), set('broken.yaml'), set('nope.yaml'), set(EXAMPLE)])
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain(`Policy file ${bad} is invalid (policy_invalid)`)
    expect(invalid.stderr).toMatch(/^ {2}version: /m)
    expect(invalid.stderr).toMatch(/^ {2}budgets\.0\.asset: .*YAML read this as the number .*: quote it/m)
    expect(invalid.stderr).toMatch(/colour/)
    expect(invalidJson.code).toBe(1)
    const body = JSON.parse(invalidJson.stdout) as { error: { code: string; message: string; hints: string[] } }
    expect(body.error.code).toBe('policy_invalid')
    expect(body.error.hints.some((h) => h.includes('version:'))).toBe(true)
    // Unparsable YAML and a missing file.
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/broken\.yaml is not valid YAML \(policy_file_unparsable\)/)
    expect(missing.stderr).toMatch(/Cannot read policy file nope\.yaml: ENOENT/)
    // Same version again: told which version to write.
    expect(same.code).toBe(1)
    expect(same.stderr).toMatch(/Set `version: 4`/)

    // The policy the rest of the test uses: pay MERCHANT up to 1,000 per payment, ask the owner above that.
    const mine = YAML.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>
    Object.assign(mine, {
      version: 4,
      rules: [
        { id: 'pay-merchant', effect: 'allow', kinds: ['eip3009'], payTo: { in: [MERCHANT] }, maxValiditySeconds: 3600, caps: [{ chainId: 84532, asset: TOKEN, perTx: '1000' }], onViolation: 'pending' },
      ],
      preApprovals: [],
      risk: { denialBurst: { count: 100, windowMinutes: 10 } },
    })
    delete mine.expiresAt
    writeFileSync(path.join(dir, 'policy.yaml'), YAML.stringify(mine))
    expect((await owner(['policy', 'set', '--wallet', wallet, '--agent', agentId, 'policy.yaml'])).stdout).toMatch(/policy v4 installed/)
  })

  it('pending list / approve (wallet found automatically) / reject; the approved purchase signs once', async () => {
    const key = loadAgentKey(agentFile)
    await waitAgentFloor()
    const ask = async (value: bigint, to: Hex = MERCHANT) => {
      const operation = eip3009({ wallet, value, to })
      const r = await requestSignature({ host: key.host!, agentKey: key, wallet, operation })
      expect(await verifyEip3009(wallet, operation, r.signature as Hex)).toBe(true)
      return r
    }
    const pendingId = async (value: bigint) => ((await ask(value).catch((e: unknown) => e)) as ApprovalPendingError).pendingId!
    expect((await owner(['pending', 'list'])).stdout.trim()).toBe('nothing pending')
    const id = await pendingId(5_000n)
    expect(id).toMatch(/^pnd_/)
    const listed = json<{ pendingId: string; wallet: string; agentId: string }[]>(await owner(['pending', 'list', '--json']))
    expect(listed).toEqual([expect.objectContaining({ pendingId: id, wallet, agentId, amountHuman: '0.005 USDC' })])
    // In human units, with why it is pending (the code and rule from the audit entry that created it).
    const human = (await owner(['pending', 'list'])).stdout
    expect(human).toContain(`${id}  0.005 USDC  agent ${agentId}`)
    expect(human).toMatch(/why pending: outside rules\.pay-merchant, the closest allow rule/)
    expect((await owner(['approve', id])).stdout).toMatch(/approved/)
    expect((await ask(5_000n)).signature).toMatch(/^0x/)
    await expect(ask(5_000n)).rejects.toBeInstanceOf(ApprovalPendingError)

    const id2 = await pendingId(9_000n)
    expect((await owner(['reject', id2, '--wallet', wallet, '--json'])).code).toBe(0)
    await expect(ask(9_000n)).rejects.toMatchObject({ message: expect.stringMatching(/rejected/) })
    // An already-rejected request says so (it used to answer pending_not_found); an unknown id is not found.
    const gone = await owner(['approve', id2])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/already rejected.*\(pending_already_resolved\)/)
    expect(gone.stderr).toMatch(/ask again/)
    const unknown = await owner(['approve', 'pnd_00000000000000000000000000000000'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/pending_not_found/)
    expect(unknown.stderr).toMatch(/pending list/)
  })

  it('permit issue (validated flags, --json); freeze / unfreeze; revoke', async () => {
    const permit = json<{ permitId: string; expiresAt: number }>(
      await owner(['permit', 'issue', '--wallet', wallet, '--agent', agentId, '--chain', '84532', '--asset', TOKEN, '--amount', '2500', '--pay-to', OTHER_PAYEE, '--expires-in', '600', '--json']),
    )
    expect(permit.permitId).toMatch(/^pmt_[0-9a-f]{16}$/)
    const w = await new OwnerClient(stack.url, privateKeyToAccount(ownerKey)).wallet(wallet)
    expect(w.permits).toEqual([expect.objectContaining({ permitId: permit.permitId, amount: '2500', payTo: OTHER_PAYEE.toLowerCase() })])
    const badAmount = await owner(['permit', 'issue', '--wallet', wallet, '--agent', agentId, '--chain', '84532', '--asset', TOKEN, '--amount', '2.5', '--pay-to', OTHER_PAYEE])
    expect(badAmount.code).toBe(1)
    expect(badAmount.stderr).toMatch(/Invalid --amount/)
    const unlocked = await owner(['permit', 'issue', '--wallet', wallet, '--agent', agentId, '--chain', '84532', '--asset', TOKEN, '--amount', '1'])
    expect(unlocked.stderr).toMatch(/--pay-to/)

    const key = loadAgentKey(agentFile)
    const pay = () => requestSignature({ host: stack.url, agentKey: key, wallet, operation: eip3009({ wallet, value: 10n }) })
    json(await owner(['agent', 'freeze', '--wallet', wallet, '--agent', agentId, '--json']))
    await expect(pay()).rejects.toMatchObject({ code: 'agent_frozen' })
    expect((await owner(['agent', 'list', '--wallet', wallet])).stdout).toMatch(/FROZEN/)
    expect((await owner(['agent', 'unfreeze', '--wallet', wallet, '--agent', agentId])).stdout).toMatch(/unfrozen/)
    expect((await pay()).signature).toMatch(/^0x/)
    expect((await owner(['agent', 'revoke', '--wallet', wallet, '--agent', agentId, '--yes'])).stdout).toMatch(/revoked/)
    await expect(pay()).rejects.toBeInstanceOf(AgentRevokedError)
  })

  it('errors say what to fix: another owner key, an unreachable host, a malformed wallet', async () => {
    const [foreign, down, malformed] = await Promise.all([
      owner(['agent', 'freeze', '--wallet', wallet, '--agent', agentId, '--key-file', path.join(dir, 'other.key')]),
      owner(['wallet', 'list', '--host', 'http://127.0.0.1:9', '--json']),
      owner(['agent', 'list', '--wallet', '0x1234']),
    ])
    expect(foreign.code).toBe(1)
    expect(foreign.stderr).toMatch(/owner_not_authorized/)
    expect(foreign.stderr).toMatch(/another owner key/)
    expect(down.code).toBe(1)
    expect(JSON.parse(down.stdout)).toMatchObject({ error: { code: 'enclave_unavailable', hints: [expect.stringMatching(/make sim/)] } })
    expect(malformed.stderr).toMatch(/--wallet 0x1234 is not a 0x-prefixed 20-byte address/)
  })

  it('policy explain: dry-runs a request against a policy file offline', async () => {
    const now = '2026-11-24T09:00:00Z'
    const s = Date.parse(now) / 1000
    const action = (amount: string) => ({
      action: { kind: 'eip3009', primaryType: 'TransferWithAuthorization', chainId: 84532, asset: TOKEN, amount, payTo: '0x4444444444444444444444444444444444444444', from: '0x1111111111111111111111111111111111111111', validAfter: s - 5, validBefore: s + 300, nonce: `0x${'01'.repeat(32)}` },
      context: { resourceUrl: 'https://api.example-data.com/v1/quote' },
    })
    writeFileSync(path.join(dir, 'small.json'), JSON.stringify(action('500000')))
    writeFileSync(path.join(dir, 'big.json'), JSON.stringify(action('9000000')))
    const [ok, big] = await Promise.all([
      runCli(['owner', 'policy', 'explain', '--policy', EXAMPLE, '--request', 'small.json', '--now', now], {}, dir),
      runCli(['owner', 'policy', 'explain', '--policy', EXAMPLE, '--request', 'big.json', '--now', now, '--json'], {}, dir),
    ])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^ALLOW {2}by rules\.x402-data-apis/)
    expect(big.code).toBe(1)
    // Over the rule's 1 USDC cap (onViolation: pending): the owner would be asked.
    expect(JSON.parse(big.stdout).verdict).toMatchObject({ verdict: 'pending', code: 'approval_pending', rule: 'rules.x402-data-apis' })
  })
})
