/**
 * UNTRUSTED side: the host's one way to talk to the enclave. Every response's
 * `persist` block (audit entries, checkpoint, sealed snapshot) is stored
 * before the result is handed on, so a signature that reaches a client is
 * already on disk. On (re)connect it hands the enclave its newest state, or,
 * if the enclave kept running, asks it (catchUp) for what a crash may have
 * kept from the store and stores that before it serves (SECURITY.md F1).
 */
import { channel } from 'node:diagnostics_channel'
import { existsSync, unlinkSync } from 'node:fs'
import {
  type EnclaveRequest,
  type OwnerActBody,
  HelloResultSchema,
  type Persist,
  PROTOCOL_VERSION,
  type ResponseFrame,
  RESULT_SCHEMAS,
  type ResultOf,
  type TypedResponse,
  type WireCheckpoint,
} from '../../shared/protocol/messages.js'
import { errorStatus } from '../../shared/errors/errorCodes.js'
import type { AgentAnswer, Store } from '../storage/Store.js'
import { LeaseLostError } from '../storage/storeErrors.js'
import { parsedEntry } from '../storage/parsedEntry.js'
import { hashedText } from '../storage/answerBody.js'
import { BaseError } from '../../shared/errors/base.js'
import { GOVERNANCE_PROTOCOL_VERSION } from '../../shared/governance/governanceProtocol.js'
import { OWNERS_FIRST_READ_WAIT_MS } from './KnownOwners.js'
import { RelayLanes, relayOwnerAct } from './relayOwnerAct.js'
import { type EnclaveAddress, EnclaveClient } from './EnclaveClient.js'
import { exactAgentSigned } from './exactAgentSigned.js'
import { ackEveryMs } from './ackEveryMs.js'

export type GatewayStatus = {
  connected: boolean
  ready: boolean
  phase: string
  stateVersion: number | null
  auditHead: { seq: number; hash: string } | null
  mode: string | null
  receiptPublicKey: string | null
  lastError: string | null
}

const REPLAY_CHUNK_BYTES = 4 * 1024 * 1024
/**
 * tail41: an agent request's host-side hops (performance.now: frame forwarded, answer frame read, answer committed),
 * for a bench probe (scripts/bench/gcTrace.mjs, openLoopStalls.ts); published only to a subscriber. tail42: with the
 * answer frame's id, which gcTrace.mjs's wire rows (each socket write and read, both processes) are keyed by.
 */
const hopTrace = channel('bursar.hop')
/** How often a ready host tells the enclave what it has stored, so the enclave can forget it (catchUp): 2 s. */
const ACK_EVERY_MS = ackEveryMs(process.env.BURSAR_TEST_ACK_EVERY_MS)

/** What the gateway tells an observer (the host's metrics): each enclave round trip and each store commit. */
export type GatewayObserver = {
  call(type: EnclaveRequest['type'], seconds: number, res: ResponseFrame | { ok: true }): void
  persist(seconds: number, blocks: number, entries: number, snapshotBytes: number): void
}

export class EnclaveGateway {
  readonly client: EnclaveClient
  /** Issue 12 stage B: governance's own process (null: none configured; owner acts answer governance_unavailable). */
  readonly governance: EnclaveClient | null
  /** Metrics hook (host/metrics.ts); none by default. */
  observer: GatewayObserver | null = null
  /** The newest stored audit entry (JSON text), parsed only when the status is read: /readyz stays current. */
  private newestEntry: string | null = null
  /**
   * Connection, phase and keys as of the last change; `stateVersion` and `auditHead` as of the newest stored entry
   * or snapshot (they move with every decision, not only at start).
   */
  get status(): GatewayStatus {
    if (this.newestEntry !== null) {
      const e = JSON.parse(this.newestEntry) as { seq?: number; hash?: string; stateVersion?: number }
      this.newestEntry = null
      if (typeof e.seq === 'number' && typeof e.hash === 'string' && e.seq > (this.current.auditHead?.seq ?? -1)) {
        this.current.auditHead = { seq: e.seq, hash: e.hash }
        if (typeof e.stateVersion === 'number') this.current.stateVersion = Math.max(this.current.stateVersion ?? 0, e.stateVersion)
      }
    }
    if (this.snapshotVersion > (this.current.stateVersion ?? 0) && this.current.ready) this.current.stateVersion = this.snapshotVersion
    return this.current
  }
  set status(s: GatewayStatus) {
    this.current = s
  }
  private current: GatewayStatus = {
    connected: false,
    ready: false,
    phase: 'disconnected',
    stateVersion: null,
    auditHead: null,
    mode: null,
    receiptPublicKey: null,
    lastError: null,
  }
  private loading: Promise<void> | null = null
  private readonly chainMode: string
  /** Issue 15 step 4: the chain this pair's enclave writes ('' = root): every store read and write of the gateway is of it. */
  chain = ''
  /**
   * From connect until hello shows the enclave is not ready, or a ready one's catchUp is stored, other requests
   * wait: nothing is served before what the enclave kept is stored.
   */
  private gate: Promise<void> | null = null
  private openGate: () => void = () => {}
  /** Every entry up to this seq is in the store; the newest stored snapshot version (both as told to the enclave). */
  private storedThrough = -1
  private snapshotVersion = 0
  private acked = { through: -2, version: -1 }
  /** What the host last told the enclave is stored (catchUp): the enclave forgets what this covers (host metrics). */
  get ackedThrough(): { through: number; version: number } {
    return this.acked
  }
  /** Highest seq stored by this process; a hole below it that outlives a tick is asked for again (a few times). */
  private maxStored = -1
  /**
   * rt36b: the enclave's audit head as a (re)connect's catchUp answered. Past what is stored it is a hole too: a catchUp
   * beyond the enclave's re-send budget (fix35) re-sends nothing, and a fresh process that stored nothing would never
   * ask again (hostDrainsCatchUpBudgetBeforeHonestRestart).
   */
  private enclaveHead = -1
  private holeTicks = 0
  private readonly ackTimer: NodeJS.Timeout
  /** TEST HOOK (host only): if this file exists, the host SIGKILLs itself after an agent answer, before storing it. */
  private readonly crashFlag = process.env.BURSAR_TEST_CRASH_BEFORE_PERSIST

  constructor(
    address: EnclaveAddress,
    readonly store: Store,
    readonly log: (line: string) => void = () => {},
    timeoutMs = 10_000,
    /** Scale-out mode (docs/scale.md): load only while holding the wallet group's lease; check it before each request. */
    private readonly lease?: GatewayLease,
    /**
     * Issue 15 step 4, the audit chain this pair writes: '' (default) the root chain, as a single pair always did;
     * 'own' a chain of its own, started from the lineage's root core with no wallets (they come by loadWallet) and
     * resumed by this process if its enclave restarts; or a chain id: resume that chain from its stored core + tail.
     */
    opts: { chain?: string; /** Issue 12 stage B: where governance's process listens (owner acts are relayed there). */ governance?: EnclaveAddress } = {},
  ) {
    this.governance = opts.governance ? new EnclaveClient(opts.governance, timeoutMs) : null
    this.governance?.start().then(() => this.helloGovernance())
    this.governance?.on('connected', () => this.helloGovernance())
    this.governance?.on('refused', (e: { code: string; message: string }, n: number) => this.log(`governance refused a connection of this host (${n} so far): ${e.code}: ${e.message}`))
    this.chainMode = opts.chain ?? ''
    if (this.chainMode !== 'own' && !/^(?:[0-9a-f]{32})?$/.test(this.chainMode)) throw new Error(`chain ${JSON.stringify(this.chainMode)}: '', 'own' or a 32-hex chain id`)
    if (/^[0-9a-f]{32}$/.test(this.chainMode)) this.chain = this.chainMode
    this.client = new EnclaveClient(address, timeoutMs)
    this.client.on('connected', () => {
      this.status.connected = true
      this.loading = this.bootstrapWithRetry()
    })
    this.client.on('late', (frame: ResponseFrame, tag: LateTag | undefined) => this.storeLate(frame, tag))
    this.client.on('refused', (e: { code: string; message: string }, n: number) => this.log(`enclave refused a connection of this host (${n} so far): ${e.code}: ${e.message}`))
    this.client.on('disconnected', () => {
      // The entries a held checkpoint covers may never come now (a restarted enclave writes others at those seqs).
      this.connection++
      this.aheadCheckpoints = []
      this.status = { ...this.status, connected: false, ready: false, phase: 'disconnected' }
      this.openGate()
    })
    this.ackTimer = setInterval(() => this.ackSoon(), ACK_EVERY_MS)
    this.ackTimer.unref()
  }

  private acking = false

  /**
   * One ack at a time: every ACK_EVERY_MS, and right after a stored snapshot (issue 18: the enclave re-sends each
   * wallet blob sealed since the core the host last acknowledged with every core; staggered seals come often).
   */
  private ackSoon(): void {
    if (this.acking) return
    this.acking = true
    void this.ack()
      .catch((err: Error) => this.log(`catchUp ack failed: ${err.message}`))
      .finally(() => (this.acking = false))
  }

  /** Tells a ready enclave how far the store is complete; stores whatever it sends back (catchUp). */
  private async ack(force = false) {
    if (!force && (!this.status.ready || this.gate)) return
    this.storedThrough = await this.store.storedThrough(this.storedThrough, this.chain)
    const same = this.storedThrough === this.acked.through && this.snapshotVersion === this.acked.version
    this.holeTicks = same && Math.max(this.maxStored, this.enclaveHead) > this.storedThrough ? this.holeTicks + 1 : 0
    if (!force && same && (this.holeTicks < 2 || this.holeTicks > 4)) return
    const r = await this.call({ type: 'catchUp', storedThrough: this.storedThrough, snapshotVersion: this.snapshotVersion })
    if (!r.ok) throw new Error(`catchUp refused: ${r.error.code}: ${r.error.message}`)
    this.acked = { through: this.storedThrough, version: this.snapshotVersion }
    // Only a (re)connect's catchUp: a timer ack's head runs ahead with answers in flight (an owner act mid-relay).
    if (force) this.enclaveHead = r.result.auditHead?.seq ?? -1
    return r.result
  }

  /** Connects and waits until the enclave is ready (state loaded) or the timeout passes. */
  async start(readyTimeoutMs = 30_000): Promise<void> {
    await this.client.start()
    const until = Date.now() + readyTimeoutMs
    while (!this.status.ready) {
      if (Date.now() > until) throw new Error(`enclave did not become ready in time: ${this.status.lastError ?? 'no answer'}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /**
   * Sends a request; stores what the response says to store; returns the response. `answer`: the agent request this
   * is (agentSign): a decided answer is stored under (agent, nonce) in the same transaction as its persist block.
   */
  async call<T extends EnclaveRequest>(msg: T, timeoutMs?: number, answer?: AnswerKey): Promise<TypedResponse<T['type']>> {
    if (this.gate && msg.type !== 'catchUp') await this.gate
    if (this.lease && msg.type !== 'hello') this.lease.check()
    const t0 = performance.now()
    const res = await this.client.call(msg, timeoutMs, { type: msg.type, answer } satisfies LateTag)
    const t1 = performance.now()
    this.observer?.call(msg.type, (t1 - t0) / 1000, res)
    if (res.persist && this.crashFlag && msg.type === 'agentSign' && res.persist.entries.length > 0 && existsSync(this.crashFlag)) {
      unlinkSync(this.crashFlag)
      process.kill(process.pid, 'SIGKILL')
    }
    let typed: TypedResponse<T['type']> | undefined
    if (res.ok) {
      const parsed = resultOf(msg.type, res.result)
      if (!parsed.success) {
        this.log(`enclave ${msg.type} result does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`)
        typed = { ok: false, error: { code: 'internal_error', message: 'Enclave answer does not match its schema' } }
      } else {
        if (msg.type === 'agentSign' && res.persist) withAuditEntry(parsed.data, res.persist)
        typed = { ok: true, result: parsed.data as ResultOf<T['type']>, ...(res.persist ? { persist: res.persist } : {}) }
      }
    }
    if (res.persist) {
      try {
        await this.persist(res.persist, answer ? toAnswer(answer, res.persist, typed ?? res) : undefined)
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err
        // The database refused our epoch: another host holds the group. Nothing was stored, so nothing is released.
        this.lease?.lost(err.message)
        throw new BaseError('lease_not_held', 'This host lost the wallet group lease; the answer was not stored and is not released')
      }
    }
    if (answer && hopTrace.hasSubscribers) hopTrace.publish({ agentId: answer.agentId, nonce: answer.nonce, id: res.id, forward: t0, answered: t1, stored: performance.now() })
    if (typed) return typed
    if (res.ok) throw new Error('unreachable: an ok response is typed above')
    // The enclave stopped on a broken invariant: stop saying ready (it answers only hello from now on).
    if (!res.ok && res.error.code === 'enclave_halted' && this.status.ready) {
      this.status = { ...this.status, ready: false, phase: 'halted', lastError: res.error.message }
      this.log(`enclave halted: ${res.error.message}`)
    }
    return res
  }

  /**
   * A response that arrived after its call timed out (the caller already got enclave_timeout): its persist block is
   * stored all the same (the enclave's log must have no hole), with the agent answer it decided, so a resend and the
   * owner's view (`audit query --request`) find it.
   */
  private storeLate(frame: ResponseFrame, tag: LateTag | undefined): void {
    if (!frame.persist) return
    let answer: AgentAnswer | undefined
    if (tag?.answer) {
      const parsed = frame.ok ? resultOf('agentSign', frame.result) : null
      if (!frame.ok) answer = toAnswer(tag.answer, frame.persist, frame)
      else if (parsed?.success) answer = toAnswer(tag.answer, frame.persist, { ok: true, result: withAuditEntry(parsed.data, frame.persist) })
    }
    this.log(`enclave answered ${tag?.type ?? 'a request'} after its timeout: storing its persist block`)
    this.persist(frame.persist, answer).catch((e: Error) => this.log(`storing a late persist block failed: ${e.message}`))
  }

  private queued: Array<{ p: Persist; answer: AgentAnswer | undefined; connection: number; resolve: () => void; reject: (e: Error) => void }> = []
  private flushScheduled = false
  /** Enclave connections so far: a block received on an earlier one can no longer wait for the entries after it. */
  private connection = 0
  /**
   * Checkpoints that arrived ahead of their entries, held until an entry at or past their seq is stored. Since turn15
   * the enclave signs each block's checkpoint at that block's own last entry, so none arrives ahead; this stays as a
   * guard (an enclave built before signed one head per turn for every answer of the turn, and the answers left one by
   * one: stored as it came, such a checkpoint ran ahead of the stored log — an export ended before its own signed
   * checkpoint, audit_truncated — and if the enclave died before sending those entries it signed a head the
   * restarted enclave's entries never match).
   */
  private aheadCheckpoints: WireCheckpoint[] = []

  /**
   * The blocks as stored: a checkpoint past every entry stored or in this batch is taken out (held); a held one
   * this batch reaches is added at its end, so it commits with the entries it covers. `through`: the highest seq
   * stored or in the batch (entries arrive in seq order: the last block's last entry is the batch's highest).
   */
  private coverCheckpoints(batch: Array<{ p: Persist; connection: number }>): Persist[] {
    const lastBlock = batch.findLast((b) => b.p.entries.length > 0)?.p
    let newest: unknown = -1
    try {
      if (lastBlock) newest = parsedEntry(lastBlock, lastBlock.entries.length - 1).seq
    } catch {} // not JSON: the store refuses the batch (and says why)
    const through = Math.max(this.maxStored, this.storedThrough, typeof newest === 'number' ? newest : -1)
    const blocks = batch.map(({ p, connection }) => {
      if (!p.checkpoint || p.checkpoint.seq <= through) return p
      // Every answer of a turn carries the same checkpoint: hold it once.
      if (connection === this.connection && this.aheadCheckpoints.at(-1)?.seq !== p.checkpoint.seq) this.aheadCheckpoints.push(p.checkpoint)
      return { ...p, checkpoint: null }
    })
    if (this.aheadCheckpoints.length === 0) return blocks
    const covered = this.aheadCheckpoints.filter((c) => c.seq <= through)
    this.aheadCheckpoints = this.aheadCheckpoints.filter((c) => c.seq > through).slice(-64)
    return [...blocks, ...covered.map((checkpoint) => ({ entries: [], checkpoint, sealed: null }))]
  }

  /** Group commit: responses that arrive in the same turn are stored in one transaction; none is answered before it commits. */
  private persist(p: Persist, answer?: AgentAnswer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ p, answer, connection: this.connection, resolve, reject })
      if (this.flushScheduled) return
      this.flushScheduled = true
      setImmediate(() => {
        this.flushScheduled = false
        const chain = this.chain
        // tail41: a periodic seal is stored in a transaction of its own once the answers it rode with are released.
        const later: Sealed[] = []
        const batch = this.queued.map((b) => (laterSeal(b.p) ? (later.push(b.p.sealed!), { ...b, p: { ...b.p, sealed: null } }) : b))
        this.queued = []
        const answers = batch.flatMap((b) => (b.answer ? [b.answer] : []))
        const t0 = performance.now()
        this.store.persistMany(this.coverCheckpoints(batch), answers, chain).then(
          (maxSeq) => {
            if (maxSeq > this.maxStored) {
              const last = batch.findLast((b) => b.p.entries.length > 0)
              if (last) this.newestEntry = last.p.entries[last.p.entries.length - 1]!
            }
            this.maxStored = Math.max(this.maxStored, maxSeq)
            // A held checkpoint a batch committed meanwhile reaches (group commits can overlap): store it now.
            if (this.aheadCheckpoints.some((c) => c.seq <= this.maxStored))
              this.persist({ entries: [], checkpoint: null, sealed: null }).catch((e: Error) => this.log(`storing a held checkpoint failed: ${e.message}`))
            for (const b of batch) if (b.p.sealed) this.snapshotVersion = Math.max(this.snapshotVersion, b.p.sealed.version)
            if (batch.some((b) => b.p.sealed) && this.status.ready) setImmediate(() => this.ackSoon())
            if (this.observer) {
              let entries = 0
              let snapshotBytes = 0
              for (const b of batch) {
                entries += b.p.entries.length
                if (b.p.sealed) snapshotBytes = sealedBytes(b.p.sealed)
              }
              this.observer.persist((performance.now() - t0) / 1000, batch.length, entries, snapshotBytes)
            }
            for (const b of batch) b.resolve()
            if (later.length > 0) setImmediate(() => this.storeSeals(later, chain))
          },
          (err: Error) => {
            for (const b of batch) b.reject(err)
          },
        )
      })
    })
  }

  /**
   * tail41: periodic seals taken out of a group commit (`laterSeal`), stored after its answers were released: the
   * ~0.5-1 MB of blobs no longer sit in the commit those answers wait for (it was the largest host commit of the open
   * loop). Acked only once stored, as before. If this commit fails the seal is lost as a too-large one is: its wallet
   * blobs stay unacked, so the enclave sends them again with its next core (test lostSealThenNewerCore).
   */
  private storeSeals(seals: Sealed[], chain: string): void {
    const t0 = performance.now()
    this.store.persistMany(seals.map((sealed) => ({ entries: [], checkpoint: null, sealed })), [], chain).then(
      () => {
        for (const s of seals) this.snapshotVersion = Math.max(this.snapshotVersion, s.version)
        if (this.status.ready) setImmediate(() => this.ackSoon())
        this.observer?.persist((performance.now() - t0) / 1000, seals.length, 0, seals.reduce((n, s) => n + sealedBytes(s), 0))
      },
      (err: Error) => this.log(`storing a periodic seal failed (its wallets are sent again with the next one): ${err.message}`),
    )
  }

  /** Bootstraps; a refused or failed load (e.g. KMS down) is retried with backoff while connected. */
  private async bootstrapWithRetry(): Promise<void> {
    for (let delay = 1_000; this.client.connected && !this.status.ready; delay = Math.min(delay * 2, 30_000)) {
      try {
        await this.bootstrap()
        return
      } catch (err) {
        this.openGate()
        this.status.lastError = (err as Error).message
        this.log(`enclave bootstrap failed (retrying in ${delay} ms): ${(err as Error).message}`)
        await new Promise((r) => setTimeout(r, delay).unref())
      }
    }
  }

  private async bootstrap(): Promise<void> {
    if (!this.gate) {
      this.gate = new Promise((resolve) => {
        this.openGate = () => {
          this.gate = null
          resolve()
        }
      })
    }
    const hello = await this.client.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })
    if (!hello.ok) throw new Error(`hello refused: ${hello.error.code}`)
    const h = HelloResultSchema.parse(hello.result)
    this.status.mode = h.mode
    this.status.phase = h.phase
    if (h.phase === 'ready') this.useChain(h.chain ?? '')
    const start = h.phase !== 'ready' && this.chainMode === 'own' && !this.chain // a chain of its own, not yet started
    const snap = start ? null : await this.store.latestSnapshot(this.chain)
    if (!snap && this.chain) throw new Error(`the store holds no core blob of chain ${this.chain}`)
    this.snapshotVersion = Math.max(this.snapshotVersion, snap?.version ?? 0)
    if (h.phase === 'ready' && this.lease) return this.resumeUnderLease(this.lease)
    if (h.phase === 'ready') {
      // The enclave kept running while we were away: store what it answered that we may not have stored, then serve.
      const r = (await this.ack(true))!
      this.status = { ...this.status, ready: true, phase: 'ready', stateVersion: r.stateVersion, auditHead: r.auditHead, receiptPublicKey: r.receiptPublicKey, lastError: null }
      this.openGate()
      this.log(`enclave ready (kept running): ${r.resent} kept entries re-sent, audit head ${r.auditHead?.seq ?? -1}`)
      return
    }
    this.openGate() // loading: requests get the enclave's own refusal (enclave_not_ready) meanwhile
    // A load cut short (e.g. the host restarted mid-load) is restarted: loadState is accepted again in 'loading'.
    if (h.phase !== 'awaiting_state' && h.phase !== 'loading') throw new Error(`enclave is in phase ${h.phase}`)
    if (this.lease) {
      this.status.phase = 'standby'
      await this.lease.waitHeld()
      // Read the newest snapshot only now: the previous holder's last persist committed before our takeover did.
      const newer = start ? null : await this.store.latestSnapshot(this.chain)
      if (newer && newer.version !== snap?.version) return this.loadFrom(newer)
    }
    return start ? this.startOwnChain() : this.loadFrom(snap)
  }

  /**
   * Scale-out, host restarted alone: the enclave kept its state from an earlier lease. Once this host holds the
   * lease (so nobody else writes), what the enclave kept is stored (catchUp, fenced by our epoch; a fork with another
   * holder's entries is refused); then the enclave may serve only if its audit head is the store's newest entry —
   * i.e. no other holder wrote after it. Otherwise the lease is given up (crash-only: restart the pair).
   */
  private async resumeUnderLease(lease: GatewayLease): Promise<void> {
    this.status.phase = 'standby'
    await lease.waitHeld()
    let r: Awaited<ReturnType<EnclaveGateway['ack']>>
    try {
      r = (await this.ack(true))!
    } catch (err) {
      lease.lost(`the kept enclave's entries could not be stored (${(err as Error).message}): restart the pair`)
      throw err
    }
    const newest = (await this.store.queryEntries({ chain: this.chain, newestFirst: true, limit: 1 }))[0]
    const head = newest ? (JSON.parse(newest) as { seq: number; hash: string }) : null
    if ((head?.seq ?? -1) !== (r.auditHead?.seq ?? -1) || (head && head.hash !== r.auditHead?.hash)) {
      lease.lost(`the enclave's audit head ${r.auditHead?.seq ?? -1} is not the store's ${head?.seq ?? -1} (another holder served): restart the pair`)
      throw new Error('enclave state is behind the store')
    }
    this.status = { ...this.status, ready: true, phase: 'ready', stateVersion: r.stateVersion, auditHead: r.auditHead, receiptPublicKey: r.receiptPublicKey, lastError: null }
    this.openGate()
    this.log(`enclave ready under a new lease (kept running, head ${r.auditHead?.seq ?? -1} is the store's newest): ${r.resent} kept entries stored`)
  }

  private async loadFrom(snap: Awaited<ReturnType<Store['latestSnapshot']>>): Promise<void> {
    this.snapshotVersion = Math.max(this.snapshotVersion, snap?.version ?? 0)
    const wallets = (snap?.wallets ?? []).map(({ wallet, blob }) => ({ wallet, blob }))
    const loaded = await this.call({ type: 'loadState', snapshot: snap?.blob ?? null, wallets }, 60_000)
    if (!loaded.ok) throw new Error(`loadState refused: ${loaded.error.code}: ${loaded.error.message}`)
    // The core names its chain (sealed): one of another chain is not served as ours (it would fork that chain).
    if ((loaded.result.chain ?? '') !== this.chain) throw new Error(`the stored core of chain '${this.chain}' names chain '${loaded.result.chain ?? ''}': refused (a forked chain)`)
    let after = snap?.auditSeq ?? -1
    let replayed = 0
    for (;;) {
      const texts = await this.store.entriesAfter(after, 2_000, this.chain)
      if (texts.length === 0) break
      // Keep frames well under the limit.
      let chunk: string[] = []
      let bytes = 0
      const flush = async () => {
        if (chunk.length === 0) return
        const r = await this.call({ type: 'replayEntries', entries: chunk }, 60_000)
        if (!r.ok) throw new Error(`replay refused: ${r.error.code}: ${r.error.message}`)
        replayed += chunk.length
        chunk = []
        bytes = 0
      }
      for (const t of texts) {
        if (bytes + t.length > REPLAY_CHUNK_BYTES) await flush()
        chunk.push(t)
        bytes += t.length
      }
      await flush()
      after = (JSON.parse(texts[texts.length - 1]!) as { seq: number }).seq
    }
    const ready = await this.call({ type: 'finishLoad' }, 60_000)
    if (!ready.ok) throw new Error(`finishLoad refused: ${ready.error.code}: ${ready.error.message}`)
    const r = ready.result
    this.storedThrough = await this.store.storedThrough(this.storedThrough, this.chain)
    this.status = {
      ...this.status,
      ready: true,
      phase: 'ready',
      stateVersion: r.stateVersion,
      auditHead: r.auditHead,
      receiptPublicKey: r.receiptPublicKey,
      lastError: null,
    }
    this.log(`enclave ready: state v${r.stateVersion}, ${replayed} entries replayed, audit head ${r.auditHead?.seq ?? -1}`)
  }

  /** Issue 15 step 4: a chain the enclave reports (a kept-running one); a pair configured for another chain refuses it. */
  private useChain(chain: string): void {
    if (this.chainMode !== 'own' && chain !== this.chainMode) throw new Error(`the enclave writes chain '${chain}', this host is configured for '${this.chainMode}': refused`)
    if (chain !== this.chain) [this.chain, this.storedThrough, this.snapshotVersion, this.maxStored] = [chain, -1, 0, -1]
  }

  /**
   * Issue 15 step 4: starts the enclave on a chain of its own (loadState newChain) from the lineage's newest root
   * core: same receipt key, entry MAC key and core id; no wallets (loadWallet brings them). The enclave picks the id;
   * chain_started (seq 0) and the chain's first core are stored under it. A later enclave restart resumes it.
   */
  async startOwnChain(): Promise<void> {
    const root = await this.store.latestSnapshot('')
    if (!root) throw new Error('no root core blob to start a chain from: start one pair on the root chain first')
    const loaded = await this.call({ type: 'loadState', snapshot: root.blob, wallets: [], newChain: true }, 60_000)
    if (!loaded.ok) throw new Error(`loadState (new chain) refused: ${loaded.error.code}: ${loaded.error.message}`)
    if (!loaded.result.chain) throw new Error('the enclave did not start a chain of its own')
    ;[this.chain, this.storedThrough, this.snapshotVersion, this.maxStored] = [loaded.result.chain, -1, 0, -1]
    const ready = await this.call({ type: 'finishLoad' }, 60_000)
    if (!ready.ok) throw new Error(`finishLoad refused: ${ready.error.code}: ${ready.error.message}`)
    const r = ready.result
    this.storedThrough = await this.store.storedThrough(this.storedThrough, this.chain)
    this.status = { ...this.status, ready: true, phase: 'ready', stateVersion: r.stateVersion, auditHead: r.auditHead, receiptPublicKey: r.receiptPublicKey, lastError: null }
    this.log(`enclave ready on its own chain ${this.chain} (started from root core v${root.version})`)
  }

  /**
   * Issue 15 step 3 (operator; step 4's leases will drive it): the enclave audits `wallet_dropped`, seals the wallet's
   * final blob and a core without it, and forgets it; all stored before this returns, so another pair can load it.
   */
  dropWallet(wallet: string): Promise<TypedResponse<'dropWallet'>> {
    return this.call({ type: 'dropWallet', wallet })
  }

  /**
   * Issue 15 step 3: hands the ready enclave `wallet`'s newest stored blob and the stored entries naming it after that
   * blob's row (the enclave passes those the blob holds and checks the rest continue its thread); the load's entry and
   * seal are stored before this returns.
   */
  async loadWallet(wallet: string): Promise<TypedResponse<'loadWallet'>> {
    const w = (await this.store.latestSnapshot(this.chain))?.wallets.find((x) => x.wallet.toLowerCase() === wallet.toLowerCase())
    if (!w) return { ok: false, error: { code: 'wallet_not_found', message: `The store holds no sealed blob of wallet ${wallet}` } }
    // The tail is in the chain whose enclave stored that blob (its row's auditSeq is a seq of that chain).
    const entries = await this.store.queryEntries({ chain: w.chain, wallet, afterSeq: w.auditSeq, limit: 10_000 })
    return this.call({ type: 'loadWallet', wallet, blob: w.blob, entries }, 60_000)
  }

  /** An owner act through the relay (host/enclave/relayOwnerAct.ts): signer → governance → signer, one HTTP request. */
  ownerAct(body: OwnerActBody): Promise<TypedResponse<'ownerActDecision'>> {
    return relayOwnerAct((msg) => this.call(msg), this.governance, body, this.lanes)
  }

  /**
   * lanes39: this host's relay lanes; who owns which wallet is read from the enclave once per connection (a restarted
   * host, a reconnected enclave), when its first owner act arrives and before any is placed, so owners' acts run
   * preferred from the first one; owners40: and again by the first act that finds that view older than a second (an
   * owner added or removed through another host), one read at a time (host/enclave/KnownOwners.ts, the one owner
   * cache; was also scope38's signedByOwner). (Not read eagerly at ready: an act waits for the read anyway, and an idle host asks nothing.)
   */
  private readonly lanes = new RelayLanes({
    epoch: () => this.connection,
    read: async () => {
      const r = await this.call({ type: 'getWallets' }, OWNERS_FIRST_READ_WAIT_MS).catch(() => null)
      return r?.ok ? r.result.wallets : null
    },
  })

  /** gov36: governance's last hello answer (its engine and protocol), or why it failed; /readyz reports it. */
  governanceHello: { ok: true; result: unknown } | { ok: false; error: string } | null = null

  /** What /readyz says of governance (it decides nothing: readiness stays the signer's): none configured, reachable or not. */
  get governanceStatus(): { state: 'none' } | { state: 'reachable'; hello: unknown } | { state: 'unreachable'; lastError: string | null } {
    if (!this.governance) return { state: 'none' }
    const h = this.governanceHello
    if (this.governance.connected && h?.ok) return { state: 'reachable', hello: h.result }
    return { state: 'unreachable', lastError: h && !h.ok ? h.error : this.governance.connected ? null : 'not connected' }
  }

  private helloGovernance(): void {
    this.governance?.call({ type: 'hello', protocolVersion: GOVERNANCE_PROTOCOL_VERSION }).then(
      (r) => {
        this.governanceHello = r.ok ? { ok: true, result: r.result } : { ok: false, error: r.error.code }
        this.log(r.ok ? `governance connected: ${JSON.stringify(r.result)}` : `governance hello refused: ${r.error.code}`)
      },
      (err: Error) => {
        this.governanceHello = { ok: false, error: err.message }
        this.log(`governance hello failed: ${err.message}`)
      },
    )
  }

  close(): void {
    clearInterval(this.ackTimer)
    this.client.close()
    this.governance?.close()
  }
}

/**
 * `RESULT_SCHEMAS[type].safeParse(result)`; issue 18 (host34): an agentSign signature that is certainly of its schema
 * (exactAgentSigned: the result itself) skips zod, anything else goes through it.
 */
function resultOf<K extends EnclaveRequest['type']>(type: K, result: unknown): { success: true; data: unknown } | { success: false; error: { issues: { message: string }[] } } {
  const exact = type === 'agentSign' ? exactAgentSigned(result) : null
  return exact ? { success: true, data: exact } : RESULT_SCHEMAS[type].safeParse(result)
}

/** What the gateway needs from the lease keeper (scale-out mode). */
export type GatewayLease = { waitHeld(): Promise<void>; check(): void; lost(why: string): void }

/** What a timed-out call was, so its late answer can still be stored. */
type LateTag = { type: EnclaveRequest['type']; answer: AnswerKey | undefined }

/** Which agent request a call answers: (agent, nonce) and the hash of its signed bytes. */
export type AnswerKey = { agentId: string; nonce: string; requestHash: string }

/**
 * Issue 15 (sdk15): a signature's answer carries its own audit entry (`auditEntry`, the entry as hashed: without the
 * stored hash and MAC) beside the receipt, so the SDKs can check that the receipt is this request's (requestId,
 * signedHash, wallet, agent) and continue the wallet's thread. Untrusted like everything the host says: the SDK hashes
 * it and compares with the receipt's entryHash, which the enclave's checkpoint signs. Only this request's own entry:
 * never another wallet's.
 */
export function withAuditEntry<R>(result: R, persist: Persist): R {
  const seq = (result as { receipt?: { seq?: unknown } }).receipt?.seq
  if (typeof seq !== 'number') return result
  for (let i = persist.entries.length - 1; i >= 0; i--) {
    const text = persist.entries[i]!
    if (!text.includes(`"seq":${seq},`)) continue
    const { hash: _hash, mac: _mac, ...entry } = parsedEntry(persist, i) as { seq: number; hash?: unknown; mac?: unknown }
    if (entry.seq === seq) {
      ;(result as { auditEntry?: unknown }).auditEntry = entry
      entryTexts.set(entry, text)
      break
    }
  }
  return result
}

/** The host's answer to a decided agent request, as it will be released (status and body), with its audit entry's seq. */
function toAnswer(key: AnswerKey, persist: Persist, res: { ok: true; result: unknown } | { ok: false; error: { code: string } }): AgentAnswer {
  // The decision's entry: the receipt names it on a signature; a refusal's is the last entry of its block.
  let auditSeq: number | null = res.ok ? ((res.result as { receipt?: { seq?: unknown } }).receipt?.seq as number | undefined) ?? null : null
  if (auditSeq === null && persist.entries.length > 0) {
    const e = parsedEntry(persist, persist.entries.length - 1) as { seq?: number; requestId?: string | null }
    if (e.requestId === key.nonce && typeof e.seq === 'number') auditSeq = e.seq
  }
  const body = res.ok ? res.result : res.error
  const split = splitAnswer(body)
  const text = split === null ? JSON.stringify(body) : `${split.head}${split.hashed}}`
  if (body !== null && typeof body === 'object') answerTexts.set(body, text)
  const answer: AgentAnswer = { ...key, status: res.ok ? 200 : errorStatus(res.error.code), body: text, auditSeq, decidedAt: Date.now() }
  // host40: the store keeps the head (the body without its entry) when the entry is the one it stores at auditSeq.
  if (split !== null && split.head.length > 1) answer.spliced = { head: split.head, entryText: split.entryText }
  return answer
}

/** Each `auditEntry` withAuditEntry set, to the stored entry text it was parsed from. */
const entryTexts = new WeakMap<object, string>()
/** A key that JSON.parse would move ahead of the others (an array index: it starts with a digit) — or a false alarm. */
const INDEX_KEY = /[{,]"[0-9]/

/**
 * Issue 18 (cpu39): JSON.stringify(body), with a signature's `auditEntry` (last, as withAuditEntry set it) spliced in as
 * its stored text without hash and mac — the enclave's canonical JSON (sorted keys, JSON.stringify's escapes), which
 * is what stringifying its parse gives back unless a key is an array index (JSON.parse puts those first): then, or
 * when the entry is not last or not one withAuditEntry set, stringified whole. answerJson.test.ts: equal bytes.
 */
export function answerJson(body: unknown): string {
  const split = splitAnswer(body)
  return split === null ? JSON.stringify(body) : `${split.head}${split.hashed}}`
}

/**
 * answerJson's parts when it splices: `head` (the body's text up to and including `"auditEntry":`), the entry as hashed,
 * and the stored entry text it came from; null: the body is stringified whole. host40: the rest of the body is
 * stringified with `auditEntry` set undefined for the call (JSON.stringify leaves such a key out: the same text as
 * the body without it, with no copy of the body).
 */
export function splitAnswer(body: unknown): { head: string; hashed: string; entryText: string } | null {
  const entry = (body as { auditEntry?: unknown } | null)?.auditEntry
  const text = entry !== null && typeof entry === 'object' ? entryTexts.get(entry) : undefined
  const hashed = text === undefined ? null : hashedText(text)
  if (hashed === null || INDEX_KEY.test(hashed)) return null
  const b = body as Record<string, unknown>
  let last: string | undefined
  for (const k in b) last = k
  if (last !== 'auditEntry' || Object.getPrototypeOf(b) !== Object.prototype || Object.isFrozen(b)) return null
  let rest: string
  b.auditEntry = undefined
  try {
    rest = JSON.stringify(b)
  } finally {
    b.auditEntry = entry
  }
  return { head: `${rest.length > 2 ? `${rest.slice(0, -1)},` : '{'}"auditEntry":`, hashed, entryText: text! }
}

/** Each answer body's JSON text as stored (toAnswer), so the route sends those bytes instead of serializing it again. */
const answerTexts = new WeakMap<object, string>()

/** Issue 18 (cpu18): the stored JSON text of an answer body this gateway returned (undefined: none stored). Do not mutate the body after. */
export function answerText(body: unknown): string | undefined {
  return body !== null && typeof body === 'object' ? answerTexts.get(body) : undefined
}

type Sealed = NonNullable<Persist['sealed']>
const sealedBytes = (s: Sealed): number => s.blob.length + (s.wallets ?? []).reduce((n, w) => n + w.blob.length, 0)

/**
 * tail41: a periodic seal, which the host may store after its block: captured at an earlier block's head (its
 * auditSeq is below this block's first entry; enclave/Enclave.ts sealTx), so storing it later is storing it as if it
 * had come later. An owner act's or the unstored bound's seal covers its own block's entries (auditSeq at or past the
 * first): replay refuses an owner act's entry past the stored core, so that seal commits with its entries, as before.
 */
export function laterSeal(p: Persist): boolean {
  if (!p.sealed || p.entries.length === 0) return false
  let first: unknown
  try {
    first = parsedEntry(p, 0).seq
  } catch {
    return false // not JSON: the store refuses the batch (and says why)
  }
  return typeof first === 'number' && p.sealed.auditSeq < first
}
