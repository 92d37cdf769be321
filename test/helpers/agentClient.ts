// Test helpers for cross-process tests that go through the real host HTTP API (no frames, no mocks).
import { spawn } from 'node:child_process'
import { randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Hex, type LocalAccount, verifyTypedData } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { ed25519PrivateKeyFromSeed } from '../../agent/ed25519PrivateKeyFromSeed.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import type { AgentOperation } from '../../agent/requestSignature.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import type { Policy } from '../../shared/schemas/policy.js'
import { type Stack, agentFloorWaitMs, repoRoot, startStack } from './startStack.js'
import { testCliEntry } from './testCli.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

/** Test token (Base Sepolia USDC address; these tests only sign, nothing touches a chain). */
export const CHAIN_ID = 84532
export const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as const
export const MERCHANT = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' as const
export const OTHER_PAYEE = '0x5B38Da6a701c568545dCfcB03FcB875f56beddC4' as const
export const TOKEN_ENTRY = { chainId: CHAIN_ID, asset: TOKEN, name: 'USDC', version: '2', decimals: 6 }

export type PolicyBody = Omit<Policy, 'wallet' | 'agentId'>

/** A policy allowing EIP-3009 payments to MERCHANT under a per-tx and rolling-24 h budget. */
export function paymentPolicy(params: { perTx: string; rolling24h: string; version?: number; extra?: Partial<PolicyBody> }): PolicyBody {
  return {
    version: params.version ?? 1,
    timeZone: 'UTC',
    tokens: [TOKEN_ENTRY],
    budgets: [{ chainId: CHAIN_ID, asset: TOKEN, perTx: params.perTx, rolling24h: params.rolling24h }],
    rules: [
      {
        id: 'pay-merchant',
        effect: 'allow',
        kinds: ['eip3009'],
        chains: { in: [CHAIN_ID] },
        assets: { in: [TOKEN] },
        payTo: { in: [MERCHANT] },
        maxValiditySeconds: 3600,
      },
    ],
    ...params.extra,
  }
}

export const TRANSFER_TYPES = EIP3009_FIELDS

/** An EIP-3009 TransferWithAuthorization from `wallet` under the registry's domain (fresh random nonce). */
/** An `eip3009` operation as viem's typed-data arguments (bigint fields), for viem's hash, verify and recover. */
export function eip3009TypedData(op: ReturnType<typeof eip3009>) {
  const m = op.typedData.message as Record<string, string>
  return {
    domain: { ...op.typedData.domain, verifyingContract: TOKEN } as never,
    types: { TransferWithAuthorization: TRANSFER_TYPES },
    primaryType: 'TransferWithAuthorization' as const,
    message: { ...m, value: BigInt(m.value!), validAfter: BigInt(m.validAfter!), validBefore: BigInt(m.validBefore!) } as never,
  }
}

export function eip3009(params: { wallet: Hex; value: bigint; to?: Hex; nonce?: Hex }): Extract<AgentOperation, { op: 'signTypedData' }> {
  const now = Math.floor(Date.now() / 1000)
  return {
    op: 'signTypedData',
    typedData: {
      domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN },
      types: { TransferWithAuthorization: TRANSFER_TYPES.map((t) => ({ ...t })) },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: params.wallet,
        to: params.to ?? MERCHANT,
        value: params.value.toString(),
        validAfter: '0',
        validBefore: String(now + 600),
        nonce: params.nonce ?? `0x${randomBytes(32).toString('hex')}`,
      },
    },
  }
}

/** Independent check (viem `verifyTypedData`) that `signature` is the wallet's signature over the operation's authorization. */
export async function verifyEip3009(wallet: Hex, op: Extract<AgentOperation, { op: 'signTypedData' }>, signature: Hex): Promise<boolean> {
  const td = op.typedData
  const m = td.message as Record<string, string>
  return verifyTypedData({
    address: wallet,
    domain: { name: td.domain.name, version: td.domain.version, chainId: Number(td.domain.chainId), verifyingContract: td.domain.verifyingContract as Hex | undefined },
    types: { TransferWithAuthorization: TRANSFER_TYPES },
    primaryType: 'TransferWithAuthorization',
    message: {
      from: m.from as Hex,
      to: m.to as Hex,
      value: BigInt(m.value!),
      validAfter: BigInt(m.validAfter!),
      validBefore: BigInt(m.validBefore!),
      nonce: m.nonce as Hex,
    },
    signature,
  })
}

export type SignedBody = { request: string; signature: string }

/** Builds and signs an agent request body by hand (what the SDK sends), so a test can capture and resend exact bytes. */
export function signedBody(params: { agentKey: AgentKey; wallet: Hex; operation: AgentOperation; extra?: Record<string, unknown> }): SignedBody {
  const issuedAt = Date.now()
  const request = {
    v: 1,
    agentId: params.agentKey.agentId,
    wallet: params.wallet,
    nonce: randomBytes(16).toString('hex'),
    issuedAt,
    expiresAt: issuedAt + 30_000,
    ...params.operation,
    ...params.extra,
  }
  const text = JSON.stringify(request)
  const key = ed25519PrivateKeyFromSeed(params.agentKey.privateKey)
  return { request: text, signature: sign(null, Buffer.from(text, 'utf8'), key).toString('hex') }
}

/** POSTs a body to /v1/agent/sign and returns the HTTP status and JSON. */
export async function postSign(url: string, body: SignedBody): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/agent/sign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

/** Every audit entry the host stores for the owner's wallets (optionally one wallet / agent), in seq order, through the public API with an owner read token. */
export async function auditEntries(url: string, owner: LocalAccount, q: { wallet?: string; agent?: string } = {}): Promise<AuditEntry[]> {
  const out: AuditEntry[] = []
  let after = -1
  const token = await signAuditReadToken({ account: owner, host: url, expiresAt: Date.now() + 10 * 60_000 })
  const headers = { authorization: `${AUDIT_READ_SCHEME} ${token}` }
  for (;;) {
    const qs = new URLSearchParams({ after: String(after), limit: '1000' })
    if (q.wallet) qs.set('wallet', q.wallet)
    if (q.agent) qs.set('agent', q.agent)
    const res = await fetch(`${url}/v1/audit/entries?${qs}`, { headers })
    if (!res.ok) throw new Error(`audit query failed: HTTP ${res.status} ${await res.text()}`)
    const page = (await res.json()) as { entries: AuditEntry[]; next: number | null }
    out.push(...page.entries)
    if (page.next === null) return out
    after = page.next
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/**
 * Waits until a fresh enclave accepts agent requests (production: it refuses requests issued < 2 s after its start; a
 * SQLite host skips its lookup only for requests issued ≥ 2 s after its start). `ms` is counted as under that floor:
 * until `ms` after the last enclave or host this process started listened (scripts/lib/startStack.ts lastListening),
 * or `ms` from now when none did. floor40b: a stack started with agentFloor 'test' (test/helpers/startStack.ts's
 * default) has its enclave's floor at its start, so the wait is 2 s shorter (`ms` − 2,000: 100 ms by default, mostly
 * past by the time the set-up is done; 600 ms for requests dated 500 ms back). Not a general sleep: once that point
 * has passed it returns at once.
 */
export async function waitAgentFloor(ms = 2_100): Promise<void> {
  const wait = agentFloorWaitMs(ms)
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
}

export type StackWithAgent = { stack: Stack; owner: LocalAccount; ownerKey: Hex; client: OwnerClient; wallet: Hex; agentKey: AgentKey; policy: Policy }

/** A real stack with one wallet (random owner) and one agent under `policy`. */
export async function stackWithAgent(policy: PolicyBody, opts: Parameters<typeof startStack>[0] = {}): Promise<StackWithAgent> {
  const stack = await startStack(opts)
  try {
    const ownerKey = generatePrivateKey()
    const owner = privateKeyToAccount(ownerKey)
    const client = new OwnerClient(stack.url, owner)
    const { wallet } = await client.createWallet('test')
    const set = await setupAgent({ host: stack.url, owner, wallet, policy })
    return { stack, owner, ownerKey, client, wallet, agentKey: set.agentKey, policy: set.policy }
  } catch (err) {
    await stack.stop()
    throw err
  }
}

export type CliResult = { code: number; stdout: string; stderr: string }

/** Owner high-water marks of CLI runs in this test process (not ~/.bursar/state); pass BURSAR_STATE_DIR to override. */
let cliStateDir: string | undefined

/**
 * Spawns the real CLI and collects its output: the bundle the global setup built from this checkout's sources
 * (test/helpers/testCli.ts), or `node bin/bursar.mjs …` through tsx with BURSAR_TEST_CLI=source.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd = repoRoot): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [testCliEntry(), ...args], {
      cwd,
      env: {
        ...process.env,
        BURSAR_OWNER_KEY: undefined,
        BURSAR_HOST_URL: undefined,
        BURSAR_STATE_DIR: (cliStateDir ??= mkdtempSync(path.join(tmpdir(), 'bursar-cli-state-'))),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    c.on('error', reject)
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
