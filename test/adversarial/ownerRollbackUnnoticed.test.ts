import { generateKeyPairSync, sign } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownerReceiptPayload } from '../../shared/owner/ownerReceipt.js'
import { type CliResult, eip3009, paymentPolicy, postSign, runCli, signedBody, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { OwnerMarks } from '../../cli/lib/OwnerMarks.js'
import { AWS_NITRO_ROOT_G1_PEM } from '../../shared/attestation/awsNitroRootG1.js'

/**
 * Finding 4 of issue 13 (reproduced on 3d8d5af): the CLI took seq = host's
 * ownerSeq + 1 in every new process, so after the host restarted the enclave
 * on a pre-revoke snapshot the owner's next act was accepted and the revoked
 * agent signed again; and owner acts had no enclave-signed receipt, so a host
 * could answer "revoked" without forwarding. Now every act returns a receipt
 * signed by the attested receipt key; the spawned CLI verifies it, keeps
 * high-water marks on disk (BURSAR_STATE_DIR), signs the next act with
 * seq = max(mark, host's) + 1 — the rolled-back enclave sees a seq from the
 * future and stops signing for the wallet — and says what to do (resync).
 */
describe('owner rollback unnoticed: receipts and on-disk high-water marks catch a rolled-back enclave and a faking host', () => {
  let stack: Stack
  let work: string
  let stateDir: string
  let wallet: `0x${string}`
  let agentKey: AgentKey
  const ownerKey = generatePrivateKey()

  const cli = (args: string[], host = stack.url): Promise<CliResult> =>
    runCli(['owner', ...args], { BURSAR_HOST_URL: host, BURSAR_OWNER_KEY: ownerKey, BURSAR_STATE_DIR: stateDir, HOME: work }, work)
  const json = (r: CliResult) => {
    expect(r.code, r.stderr + r.stdout).toBe(0)
    return JSON.parse(r.stdout) as Record<string, unknown>
  }
  const pay = async () => {
    await waitAgentFloor()
    const op = eip3009({ wallet, value: 1000n })
    const r = await postSign(stack.url, signedBody({ agentKey, wallet, operation: op }))
    if (r.status === 200) expect(await verifyEip3009(wallet, op, r.json.signature as `0x${string}`)).toBe(true)
    return r
  }
  /** The host's storage (SQLite and its WAL), copied while both processes are stopped. */
  const dbFiles = () => readdirSync(stack.dataDir).filter((f) => f.startsWith('bursar.db'))
  const saveDb = (to: string) => {
    for (const f of dbFiles()) copyFileSync(path.join(stack.dataDir, f), path.join(to, f))
  }
  const restoreDb = (from: string) => {
    for (const f of dbFiles()) rmSync(path.join(stack.dataDir, f))
    for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(stack.dataDir, f))
  }
  const stopBoth = async () => {
    await stack.stopHost()
    await stack.stopEnclave()
  }
  const startBoth = async () => {
    await stack.startEnclave()
    await stack.startHost() // same port: the owner's marks are per host URL
    await stack.waitReady()
  }

  beforeAll(async () => {
    stack = await startStack()
    work = mkdtempSync(path.join(tmpdir(), 'bursar-rollback-'))
    stateDir = path.join(work, 'state')
    const created = await cli(['wallet', 'create', '--label', 'rb', '--json'])
    expect(created.stderr).toMatch(/pinned the receipt key of .* on first use/)
    wallet = json(created).wallet as `0x${string}`
    const added = json(await cli(['agent', 'add', '--wallet', wallet, '--out', 'agent.json', '--json']))
    agentKey = JSON.parse(readFileSync(path.join(work, 'agent.json'), 'utf8')) as AgentKey
    writeFileSync(path.join(work, 'policy.json'), JSON.stringify(paymentPolicy({ perTx: '1000000', rolling24h: '100000000' })))
    json(await cli(['policy', 'set', '--wallet', wallet, '--agent', String(added.agentId), 'policy.json', '--json']))
  }, 180_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it('the CLI pins the receipt key on first use, says so, and keeps marks on disk', async () => {
    const marks = JSON.parse(readFileSync(path.join(stateDir, 'owner-marks.json'), 'utf8'))
    const host = marks.hosts[stack.url]
    expect(host.pinnedBy).toBe('first-use')
    expect(host.wallets[wallet.toLowerCase()].ownerSeq).toBe(2) // RegisterAgent, SetPolicy
    expect((await pay()).status).toBe(200)
  })

  it('host restarts the enclave on a pre-revoke snapshot: the owner\'s next CLI act detects it and the revoked agent stops signing', async () => {
    const before = mkdtempSync(path.join(tmpdir(), 'bursar-db-'))
    await stopBoth()
    saveDb(before) // the host keeps a copy of its storage from before the revoke
    await startBoth()
    const revoked = await cli(['agent', 'revoke', '--wallet', wallet, '--agent', agentKey.agentId, '--yes', '--json'])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect((await pay()).json.code).toBe('agent_revoked')

    // The attack: the host puts its old storage back and restarts the enclave on the pre-revoke snapshot.
    await stopBoth()
    restoreDb(before)
    await startBoth()
    expect((await pay()).status).toBe(200) // the residual window: until any owner act (docs/security.md)

    // The owner's next act, in a new CLI process: its marks say seq 3, the host says 2.
    const r = await cli(['agent', 'freeze', '--wallet', wallet, '--agent', agentKey.agentId])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/rolled back/)
    expect(r.stderr).toMatch(/state_rollback_detected/)
    expect(r.stderr).toMatch(/bursar owner wallet resync --wallet/)
    // SECURITY: the enclave saw seq 4 > its 2 + 1 and stopped signing for the wallet: the revoked agent does not sign.
    const refused = await pay()
    expect(refused.status).not.toBe(200)
    expect(refused.json.code).toBe('wallet_rolled_back')

    // What the error says to do: resync, then repeat the lost revoke.
    const resynced = json(await cli(['wallet', 'resync', '--wallet', wallet, '--json']))
    expect(resynced.ownerSeq).toBeGreaterThan(3)
    json(await cli(['agent', 'revoke', '--wallet', wallet, '--agent', agentKey.agentId, '--yes', '--json']))
    expect((await pay()).json.code).toBe('agent_revoked')
  }, 300_000)

  it('a host that answers an act without forwarding it is detected (no receipt, forged receipt, replayed receipt)', async () => {
    // A second agent on the wallet, then a faking proxy in front of the real host.
    const added = json(await cli(['agent', 'add', '--wallet', wallet, '--out', 'agent2.json', '--json']))
    const agent2 = String(added.agentId)
    const genuine = json(await cli(['agent', 'freeze', '--wallet', wallet, '--agent', agent2, '--json']))
    const forgedKey = generateKeyPairSync('ed25519').privateKey
    let mode: 'none' | 'forged' | 'replayed' = 'none'
    let forwarded = 0
    const proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      if (req.method === 'POST' && req.url === '/v1/owner/acts') {
        const seq = Number(JSON.parse(JSON.parse(Buffer.concat(chunks).toString()).message).seq)
        const base = { wallet, ownerSeq: seq, agentId: agent2, frozen: false }
        let body: Record<string, unknown> = base
        if (mode === 'forged') {
          const r = { ...(genuine.receipt as Record<string, unknown>), act: 'FreezeAgent', ownerSeq: seq } as never
          const { signature: _s, ...rb } = r as Record<string, unknown>
          body = { ...base, receipt: { ...rb, signature: `0x${sign(null, ownerReceiptPayload(rb as never), forgedKey).toString('hex')}` } }
        }
        if (mode === 'replayed') body = { ...base, receipt: genuine.receipt }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        return
      }
      forwarded++
      // The faking host serves reads as its operator does (the owner's read token names the proxy, not the real host).
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${stack.auditToken}` }
      const up = await fetch(`${stack.url}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) })
      res.writeHead(up.status, { 'content-type': 'application/json' }).end(Buffer.from(await up.arrayBuffer()))
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
    try {
      for (const m of ['none', 'forged', 'replayed'] as const) {
        mode = m
        const r = await cli(['agent', 'unfreeze', '--wallet', wallet, '--agent', agent2], proxyUrl)
        expect({ m, code: r.code }).toEqual({ m, code: 1 })
        expect(r.stderr).toMatch(/owner_receipt_invalid/)
        expect(r.stderr).toMatch(/not backed by an enclave receipt/)
      }
      expect(forwarded).toBeGreaterThan(0) // reads went through; the acts never reached the enclave
      // The agent is still frozen in the enclave, whatever the fake host said.
      const listed = json(await cli(['agent', 'list', '--wallet', wallet, '--json'])) as unknown as Array<{ agentId: string; frozen: boolean }>
      expect(listed.find((a) => a.agentId === agent2)?.frozen).toBe(true)
    } finally {
      proxy.close()
    }
    // Honest traffic through the real host still works, and the marks moved past the unknown-outcome seqs.
    const ok = json(await cli(['agent', 'unfreeze', '--wallet', wallet, '--agent', agent2, '--json']))
    expect(ok.frozen).toBe(false)
    expect(existsSync(path.join(stateDir, 'owner-marks.json'))).toBe(true)
  }, 300_000)

  it('with --root the receipt key comes from a verified attestation; a document that does not chain to the root is refused', async () => {
    const owner = privateKeyToAccount(generatePrivateKey())
    const root = readFileSync(path.join(stack.dataDir, 'sim-pki', 'SIMULATION-ROOT-NOT-SECURE.pem'), 'utf8')
    const marks = new OwnerMarks(path.join(work, 'attested-marks.json'))
    const created = await new OwnerClient(stack.url, owner, { marks, root, allowDebug: true }).createWallet('attested')
    expect(marks.host(stack.url)?.pinnedBy).toBe('attestation')
    expect(marks.wallet(stack.url, created.wallet)?.stateVersion).toBe(created.receipt.stateVersion)
    const wrong = new OwnerClient(stack.url, owner, { root: AWS_NITRO_ROOT_G1_PEM, allowDebug: true })
    await expect(wrong.createWallet('x')).rejects.toMatchObject({ code: 'owner_receipt_key_unverified' })
  }, 60_000)
})
