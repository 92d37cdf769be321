/**
 * UNTRUSTED (test double of a hostile host): spawns the REAL built simulated
 * enclave (dist/enclave.sim.mjs) and speaks the real frame protocol to it
 * over its Unix socket, without the honest host. It keeps every `persist`
 * block it is handed (entries, checkpoints, sealed snapshots) so tests can
 * replay, drop, reorder, tamper with and swap them.
 */
import type { ChildProcess } from 'node:child_process'
import { type KeyObject, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Hex, type LocalAccount, verifyTypedData } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import type { OwnerActType } from '../../shared/owner/ownerActTypes.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../shared/protocol/frame.js'
import {
  type EnclaveRequest,
  PROTOCOL_VERSION,
  type ResponseFrame,
  ResponseFrameSchema,
  type WalletInfo,
  type WireCheckpoint,
} from '../../shared/protocol/messages.js'
import type { AgentRequest, TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { type Policy, parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { spawnReaped } from '../../scripts/lib/spawnReaped.js'
import { AGENT_CLOCK_AHEAD_MS } from '../../shared/schemas/agentRequest.js'
import { type AgentFloor, defaultAgentFloor, repoRoot, waitFor } from './startStack.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'
import { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY } from './agentClient.js'

/** The test token and payment policy: one definition for the stack tests and these (tidy42). */
export { CHAIN_ID, MERCHANT, type PolicyBody, TOKEN, TOKEN_ENTRY, paymentPolicy } from './agentClient.js'

export type WalletBlobs = Array<{ wallet: string; version: number; blob: Uint8Array }>
/** A sealed core blob and the wallet blobs sealed with it (issue 15). */
export type SealedSnapshot = { version: number; auditSeq: number; blob: Uint8Array; wallets?: WalletBlobs | undefined }

/** A test agent: raw Ed25519 key pair and its derived id. */
export type TestAgent = { agentId: string; publicKeyHex: Hex; privateKey: KeyObject }

export type AgentSignOk = {
  signature: Hex
  signedHash: Hex
  receipt: { seq: number; walletSeq?: number; entryHash: Hex; stateVersion: number; checkpoint: WireCheckpoint }
}

/** One connection to the enclave: pipelined request frames, responses matched by id, every persist recorded. */
export class EnclaveConnection {
  private nextId = 1
  private readonly waiting = new Map<number, (r: ResponseFrame) => void>()
  private readonly reader = new FrameReader()

  constructor(
    private readonly socket: net.Socket,
    private readonly onPersist: (r: ResponseFrame) => void,
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const body of this.reader.push(chunk)) {
        const frame = ResponseFrameSchema.parse(decodeFrameBody(body))
        this.onPersist(frame)
        this.waiting.get(frame.id)?.(frame)
        this.waiting.delete(frame.id)
      }
    })
  }

  /** Sends one message (no schema check: a hostile host may send anything) and waits for its response. */
  call(msg: EnclaveRequest | Record<string, unknown>): Promise<ResponseFrame> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve)
      this.socket.write(encodeFrame({ id, msg }), (err) => err && reject(err))
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

/** The hostile host: owns the enclave process, a connection, and everything it was asked to persist. */
export class MaliciousHost {
  readonly dataDir: string
  readonly socketPath: string
  readonly logs: string[] = []
  /** Every audit entry text received, in arrival order (forks included after a rollback). */
  readonly entries: string[] = []
  readonly checkpoints: WireCheckpoint[] = []
  readonly snapshots: SealedSnapshot[] = []
  proc: ChildProcess | null = null
  conn: EnclaveConnection | null = null
  /**
   * When the current enclave process was spawned, then said it listens (Date.now: its replay floor is ~2 s after), to
   * compare with the enclave's own dates (audit entries' `time`). Not for waiting: see listenedAt.
   */
  spawnedAt = 0
  /**
   * tidy42: when the current enclave said it listens, on performance.now(), which no test moves (hang41: the stacks'
   * floor, scripts/lib/startStack.ts lastListening.floorAt). test/helpers/simClock.ts moves this process's Date.now;
   * a wait dated on Date.now slept the whole offset once it was moved back between the start and the wait.
   */
  listenedAt = 0
  /** Issue 12 stage B: governance's process, which the sim enclave starts beside itself (its socket + .gov). */
  gov: EnclaveConnection | null = null
  /** Extra environment for the enclave (e.g. a test clock: test/helpers/simClock.ts). */
  env: Record<string, string> = {}
  /**
   * suite41 (floor40b's sim-only floor, extended here): 'test' starts the simulated enclave with its agent start floor
   * at its start (BURSAR_SIM_AGENT_START_FLOOR_MS=0: a request issued after the start is accepted, one issued before it
   * is still request_before_enclave_start), so waitAgentFloor need not wait 2 s after every start. 'production' (start
   * + 2 s, what enclave/main.ts always has) for the files whose claim is about that distance: replayAgentRequest,
   * sessionOpenReplayedAfterRestart, replayedFrames, hostReloadsStaleWalletIntoRestartedEnclave,
   * replayAcrossSealAndStandbyLoad. Set before startEnclave; BURSAR_TEST_AGENT_FLOOR=production makes it the default.
   */
  agentFloor: AgentFloor = defaultAgentFloor()

  /** `socketName`: a second enclave on the same data dir (same sim sealing key), e.g. a standby that loads later. */
  constructor(dataDir?: string, socketName = 'enclave.sock') {
    this.dataDir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'bursar-adv-'))
    this.socketPath = path.join(this.dataDir, socketName)
  }

  /** Spawns the built simulated enclave and connects to it. */
  async startEnclave(): Promise<EnclaveConnection> {
    const mark = this.logs.length
    this.spawnedAt = Date.now()
    const c = spawnReaped(process.execPath, [path.join(repoRoot, 'dist/enclave.sim.mjs')], {
      env: {
        ...process.env,
        BURSAR_DATA_DIR: this.dataDir,
        BURSAR_ENCLAVE_LISTEN: `unix:${this.socketPath}`,
        ...(this.agentFloor === 'test' ? { BURSAR_SIM_AGENT_START_FLOOR_MS: '0' } : {}),
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    c.stderr!.on('data', (d: Buffer) => this.logs.push(d.toString()))
    this.proc = c
    await waitFor(() => this.logs.slice(mark).join('').includes('enclave listening'), 20_000, 'enclave listening', this.logs)
    // The enclave's start floor counts from its own start, which is at the latest when it says it listens.
    this.listening()
    this.conn = await this.connect()
    return this.conn
  }

  async stopEnclave(): Promise<void> {
    this.conn?.close()
    this.conn = null
    this.gov?.close()
    this.gov = null
    const c = this.proc
    this.proc = null
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve())
      c.kill('SIGTERM')
      setTimeout(() => c.kill('SIGKILL'), 3_000).unref()
    })
  }

  async restartEnclave(): Promise<EnclaveConnection> {
    await this.stopEnclave()
    return this.startEnclave()
  }

  /** Opens another connection (e.g. to check that a second socket sees the same phase). */
  async connect(): Promise<EnclaveConnection> {
    const socket = net.createConnection(this.socketPath)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new EnclaveConnection(socket, (r) => this.record(r))
  }

  private record(r: ResponseFrame): void {
    if (!r.persist) return
    this.entries.push(...r.persist.entries)
    if (r.persist.checkpoint) this.checkpoints.push(r.persist.checkpoint)
    if (r.persist.sealed) this.snapshots.push({ ...r.persist.sealed, blob: new Uint8Array(r.persist.sealed.blob) })
  }

  /**
   * A loadState without `wallets` gets the wallet blobs an honest store holds beside that core blob (walletsFor). An
   * ownerAct is relayed as the honest host does (issue 12 stage B): the signer's view to governance, its decision back.
   */
  async call(msg: EnclaveRequest | Record<string, unknown>): Promise<ResponseFrame> {
    if (!this.conn) throw new Error('enclave not started')
    if (msg.type === 'loadState' && !('wallets' in msg) && msg.snapshot instanceof Uint8Array) msg = { ...msg, wallets: this.walletsFor(msg.snapshot) }
    const r = await this.conn.call(msg)
    const needs = r.ok ? (r.result as { needs?: string; view?: Uint8Array; link?: Uint8Array }) : null
    if (msg.type !== 'ownerAct' || needs?.needs !== 'governance') return r
    const d = await this.decide(needs.view!, needs.link!)
    if (!d.ok) return d
    const { type: _, ...body } = msg
    return this.conn.call({ type: 'ownerActDecision', ...body, decision: (d.result as { decision: Uint8Array }).decision })
  }

  /** Only the signer's end (an ownerAct answers the view, not relayed): for tests that hold, replay, reorder or forge decisions. */
  callSigner(msg: EnclaveRequest | Record<string, unknown>): Promise<ResponseFrame> {
    if (!this.conn) throw new Error('enclave not started')
    return this.conn.call(msg)
  }

  /** Governance's answer to a view (and the sealed link key the signer sent with it). */
  async decide(view: Uint8Array, link: Uint8Array): Promise<ResponseFrame> {
    if (!this.gov) {
      const gov = `${this.socketPath}.gov`
      let socket: net.Socket | null = null
      await waitFor(async () => {
        socket = await new Promise<net.Socket | null>((resolve) => {
          const s = net.createConnection(gov)
          s.once('connect', () => resolve(s))
          s.once('error', () => resolve(null))
        })
        return socket !== null
      }, 10_000, 'governance listening', this.logs)
      this.gov = new EnclaveConnection(socket!, () => {})
    }
    return this.gov.call({ type: 'decide', view, link })
  }

  /**
   * What an honest store holds beside core blob `core`: each wallet's blob last received with it or before it (the
   * first seal after a load re-seals every wallet, so this follows a lineage; none for a core blob never received).
   */
  walletsFor(core: Uint8Array): Array<{ wallet: string; blob: Uint8Array }> {
    const at = this.snapshots.findIndex((s) => Buffer.from(s.blob).equals(core))
    const newest = new Map<string, Uint8Array>()
    for (const s of this.snapshots.slice(0, at + 1)) for (const w of s.wallets ?? []) newest.set(w.wallet, w.blob)
    return [...newest].map(([wallet, blob]) => ({ wallet, blob }))
  }

  /**
   * hello → loadState(snapshot) → replayEntries(entries, if any) → finishLoad,
   * stopping at the first refusal. Returns every response and the final one.
   */
  async bootstrap(params: { snapshot: Uint8Array | null; entries?: string[] }): Promise<{ steps: ResponseFrame[]; last: ResponseFrame }> {
    const steps: ResponseFrame[] = []
    const step = async (msg: EnclaveRequest) => {
      const r = await this.call(msg)
      steps.push(r)
      return r
    }
    let r = await step({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    if (r.ok) r = await step({ type: 'loadState', snapshot: params.snapshot })
    if (r.ok && params.entries && params.entries.length > 0) r = await step({ type: 'replayEntries', entries: params.entries })
    if (r.ok) r = await step({ type: 'finishLoad' })
    return { steps, last: r }
  }

  /** What an honest host would do: the newest snapshot and every entry after it (single lineage assumed). */
  async bootstrapHonest(): Promise<ResponseFrame> {
    const snap = this.latestSnapshot()
    const entries = snap ? this.entriesAfter(snap.auditSeq) : []
    return (await this.bootstrap({ snapshot: snap?.blob ?? null, entries })).last
  }

  latestSnapshot(): SealedSnapshot | undefined {
    return this.snapshots[this.snapshots.length - 1]
  }

  /** Entries with seq > afterSeq among `from` (default: everything received), in arrival order. */
  entriesAfter(afterSeq: number, from: string[] = this.entries): string[] {
    return from.filter((t) => (JSON.parse(t) as { seq: number }).seq > afterSeq)
  }

  /**
   * Waits out the enclave's replay floor (requests issued < start + 2 s are refused; < start under agentFloor 'test',
   * already past when the enclave has said it listens), with 300 ms to spare.
   */
  async waitAgentFloor(): Promise<void> {
    const wait = this.agentFloorWaitMs()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }

  /** Dates the current enclave's listen on both clocks (startEnclave, once it says it listens). */
  listening(): void {
    this.spawnedAt = Date.now()
    this.listenedAt = performance.now()
  }

  /** How long waitAgentFloor still waits (ms, 0 once past): elapsed time since listenedAt, whatever Date.now says. */
  agentFloorWaitMs(): number {
    return Math.max(0, this.listenedAt + (this.agentFloor === 'test' ? 0 : AGENT_CLOCK_AHEAD_MS) + 300 - performance.now())
  }

  async wallets(): Promise<WalletInfo[]> {
    const r = await this.call({ type: 'getWallets' })
    if (!r.ok) throw new Error(`getWallets refused: ${r.error.code}`)
    return (r.result as { wallets: WalletInfo[] }).wallets
  }

  async ownerSeq(wallet: string): Promise<number> {
    const w = (await this.wallets()).find((x) => x.address.toLowerCase() === wallet.toLowerCase())
    if (!w) throw new Error(`no wallet ${wallet}`)
    return w.ownerSeq
  }

  /** Sends an owner act signed by `account`; `seq` defaults to the enclave's ownerSeq + 1 (for wallet acts). */
  async ownerAct(params: {
    account: LocalAccount
    primaryType: OwnerActType
    message: Record<string, unknown>
    policy?: string
  }): Promise<ResponseFrame> {
    const body = await signOwnerAct({ account: params.account, primaryType: params.primaryType, message: params.message })
    return this.call({ type: 'ownerAct', ...body, ...(params.policy !== undefined ? { policy: params.policy } : {}) })
  }

  /** Owner act on a wallet with seq filled from the enclave (like OwnerClient). */
  async walletAct(account: LocalAccount, primaryType: OwnerActType, wallet: Hex, fields: Record<string, unknown>, policy?: string) {
    const seq = String((await this.ownerSeq(wallet)) + 1)
    return this.ownerAct({ account, primaryType, message: { wallet, ...fields, seq }, ...(policy !== undefined ? { policy } : {}) })
  }

  /** gov36: the enclave's audit chain (its attest answer), which a CreateWallet/ImportWallet names. */
  async auditChain(): Promise<string> {
    const r = await this.call({ type: 'attest', nonce: null })
    if (!r.ok) throw new Error(`attest refused: ${r.error.code}`)
    return (r.result as { auditChain: string }).auditChain
  }

  async createWallet(owner: LocalAccount, label = 'adv'): Promise<Hex> {
    const r = await this.ownerAct({
      account: owner,
      primaryType: 'CreateWallet',
      message: { owner: owner.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: await this.auditChain() },
    })
    if (!r.ok) throw new Error(`CreateWallet refused: ${r.error.code}`)
    return (r.result as { wallet: Hex }).wallet
  }

  /** RegisterAgent + SetPolicy (version from the policy) for a fresh agent. */
  async setupAgent(owner: LocalAccount, wallet: Hex, policy: PolicyBody, agent = newAgent()): Promise<{ agent: TestAgent; policy: Policy }> {
    const reg = await this.walletAct(owner, 'RegisterAgent', wallet, { agentId: agent.agentId, agentPublicKey: agent.publicKeyHex, label: 'a' })
    if (!reg.ok) throw new Error(`RegisterAgent refused: ${reg.error.code}`)
    const p = await this.setPolicy(owner, wallet, agent, policy)
    if (!p.res.ok) throw new Error(`SetPolicy refused: ${p.res.error.code}`)
    return { agent, policy: p.policy }
  }

  async setPolicy(owner: LocalAccount, wallet: Hex, agent: TestAgent, body: PolicyBody) {
    const policy = parsePolicy({ ...body, wallet, agentId: agent.agentId })
    const res = await this.walletAct(
      owner,
      'SetPolicy',
      wallet,
      { agentId: agent.agentId, version: String(policy.version), policyHash: policyHash(policy) },
      JSON.stringify(policy),
    )
    return { res, policy }
  }

  /** Sends a signed agent request (see `signAgentRequest`). */
  agentSign(signed: { request: string; signature: string }, conn = this.conn): Promise<ResponseFrame> {
    if (!conn) throw new Error('enclave not started')
    return conn.call({ type: 'agentSign', request: signed.request, signature: signed.signature })
  }

  async stop(): Promise<void> {
    await this.stopEnclave()
  }
}

export function newAgent(): TestAgent {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  return { agentId: agentIdFromPublicKey(raw), publicKeyHex: `0x${raw.toString('hex')}`, privateKey }
}

type Operation =
  | Pick<Extract<AgentRequest, { op: 'signTypedData' }>, 'op' | 'typedData'>
  | Pick<Extract<AgentRequest, { op: 'signMessage' }>, 'op' | 'message'>
  | Pick<Extract<AgentRequest, { op: 'signTransaction' }>, 'op' | 'transaction'>

/** Builds an agent request and signs its exact JSON text with `signer` (default: the agent's own key). */
export function signAgentRequest(params: {
  agent: TestAgent
  wallet: Hex
  operation: Operation
  signer?: KeyObject
  issuedAt?: number
  /** Default issuedAt + 30 s (the longest allowed). */
  expiresAt?: number
  nonce?: string
  context?: AgentRequest['context']
}): { request: string; signature: string; parsed: AgentRequest } {
  const issuedAt = params.issuedAt ?? Date.now()
  const parsed = {
    v: 1,
    agentId: params.agent.agentId,
    wallet: params.wallet,
    nonce: params.nonce ?? randomBytes(16).toString('hex'),
    issuedAt,
    expiresAt: params.expiresAt ?? issuedAt + 30_000,
    ...params.operation,
    ...(params.context ? { context: params.context } : {}),
  } as AgentRequest
  const request = JSON.stringify(parsed)
  return { request, signature: resign(request, params.signer ?? params.agent.privateKey), parsed }
}

/** Ed25519 signature (hex) over a request text. */
export function resign(text: string, key: KeyObject): string {
  return sign(null, Buffer.from(text, 'utf8'), key).toString('hex')
}

const TRANSFER_TYPES = EIP3009_FIELDS

/** An EIP-3009 TransferWithAuthorization from `wallet` (domain overridable to test forgeries). */
export function eip3009(params: {
  wallet: Hex
  value: bigint
  to?: Hex
  domain?: Partial<TypedDataJson['domain']>
}): Pick<Extract<AgentRequest, { op: 'signTypedData' }>, 'op' | 'typedData'> {
  const now = Math.floor(Date.now() / 1000)
  return {
    op: 'signTypedData',
    typedData: {
      domain: { name: TOKEN_ENTRY.name, version: TOKEN_ENTRY.version, chainId: CHAIN_ID, verifyingContract: TOKEN, ...params.domain },
      types: { TransferWithAuthorization: [...TRANSFER_TYPES] },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: params.wallet,
        to: params.to ?? MERCHANT,
        value: params.value.toString(),
        validAfter: '0',
        validBefore: String(now + 600),
        nonce: `0x${randomBytes(32).toString('hex')}`,
      },
    },
  }
}

/** Independent check (viem) that `signature` is the wallet's EIP-712 signature over the request's typed data. */
export async function verifyPayment(wallet: Hex, parsed: AgentRequest, signature: Hex): Promise<boolean> {
  if (parsed.op !== 'signTypedData') return false
  const td = parsed.typedData
  const m = td.message as Record<string, string>
  return verifyTypedData({
    address: wallet,
    domain: { ...td.domain, chainId: Number(td.domain.chainId) } as never,
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

/** Asserts-as-value: the response is a refusal (no signature anywhere in it) and returns its code. */
export function refusalCode(r: ResponseFrame): string {
  if (r.ok) return `UNEXPECTED_OK:${JSON.stringify(r.result).slice(0, 200)}`
  return r.error.code
}

/** True if any field of a response carries something that looks like a 65-byte secp256k1 signature. */
export function hasSignature(r: ResponseFrame): boolean {
  return /0x[0-9a-fA-F]{130}(?![0-9a-fA-F])/.test(JSON.stringify(r.ok ? r.result : r.error))
}

/** A fresh enclave (no snapshot), one wallet owned by a random key, one agent with `policy`. */
export async function startWithAgent(policy: PolicyBody, agentFloor: AgentFloor = defaultAgentFloor()): Promise<{
  host: MaliciousHost
  owner: LocalAccount
  wallet: Hex
  agent: TestAgent
}> {
  const host = new MaliciousHost()
  host.agentFloor = agentFloor
  await host.startEnclave()
  const ready = await host.bootstrapHonest()
  if (!ready.ok) throw new Error(`fresh bootstrap refused: ${ready.error.code}`)
  const owner = privateKeyToAccount(generatePrivateKey())
  const wallet = await host.createWallet(owner)
  const { agent } = await host.setupAgent(owner, wallet, policy)
  return { host, owner, wallet, agent }
}
