import { BaseError } from '../../shared/errors/base.js'
import { GovernanceDecideSchema } from '../../shared/governance/governanceProtocol.js'
import type { EnclaveRequest, OwnerActBody, TypedResponse } from '../../shared/protocol/messages.js'
import type { EnclaveClient } from './EnclaveClient.js'
import { KnownOwners, type KnownOwnersOptions, type Named, type OwnersSource } from './KnownOwners.js'
import { ownerActSigner } from './ownerActSigner.js'

/** How long an owner act waits for governance's connection (it starts beside the enclave) before governance_unavailable. */
const CONNECT_WAIT_MS = 5_000
/**
 * How many times one owner act is relayed again when the signer answers governance_stale: another act or an agent turn
 * changed what its view read (concurrent CreateWallets of one owner, a held act falling due). The same signed bytes go
 * round again (a fresh view, a fresh decision): the signer's checks decide, the host only forwards once more.
 */
const STALE_ATTEMPTS = 8

/**
 * UNTRUSTED (issue 12 stage B): one owner act, inside one HTTP request: ownerAct to the signer, which answers with the
 * MACed view and its sealed link key; both to governance's process (`decide`); its decision back to the signer with the
 * act (ownerActDecision), which applies it only for the view it sent. The host forwards bytes and decides nothing.
 * Governance unreachable or slow: governance_unavailable (503), and nothing was applied.
 */
export async function relayOwnerAct(
  call: <T extends 'ownerAct' | 'ownerActDecision'>(msg: Extract<EnclaveRequest, { type: T }>) => Promise<TypedResponse<T>>,
  governance: EnclaveClient | null,
  body: OwnerActBody,
  lanes: RelayLanes = sharedLanes,
): Promise<TypedResponse<'ownerActDecision'>> {
  const named = namedBy(body)
  const r = await lanes.run(named, body, async () => {
    for (let attempt = 1; ; attempt++) {
      const r = await relayOnce(call, governance, body)
      if (r.ok) {
        // The signer of an act that applied is one of its wallet's owners (a proposal's too: governance counted its
        // signature); an applied SetOwners names the wallet's owners from now on.
        if (r.result.owners && !r.result.proposal) lanes.known.set(r.result.wallet, r.result.owners)
        else {
          const signer = (await ownerActSigner(body))?.signer
          if (signer !== undefined) lanes.known.add(r.result.wallet, signer)
        }
        lanes.known.applied(r.result.wallet, r.result.ownerSeq, named.create) // rt39: its replays are strangers' from now on
        const made = named.create && !r.result.proposal ? await ownerActSigner(body) : null
        if (made?.nonce) lanes.known.created(made.nonce, made.issuedAt!)
      }
      if (r.ok || r.error.code !== 'governance_stale' || attempt >= STALE_ATTEMPTS) return r
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt)) // jitter: racing acts spread out
    }
  })
  if (r !== LANE_FULL) return r
  const message = `The host holds ${LANE_WAITING} owner acts waiting for this wallet already; nothing was applied: send the act again later`
  return { ok: false, error: { code: 'owner_act_queue_full', message, retryAfterMs: LANE_RETRY_MS } }
}

/**
 * SECURITY (rt37): the signer makes a view for any act before its signature is checked (governance checks it) and keeps
 * one view per wallet, a newer act's replacing it, and 1,024 in all (the oldest evicted). Relayed concurrently, a
 * stranger's unsigned acts naming a wallet replaced its owner's view before each decision came back: the owner's act
 * was governance_stale 8 times out of 8 (test/adversarial/strangerStarvesOwnerActWithUnsignedActs). So the host relays
 * one act per wallet at a time (each CreateWallet in a lane of its own), in arrival order, and at most MAX_IN_FLIGHT acts at once
 * (below the signer's 1,024 views: none of this host's in-flight views is evicted by another). Availability only: a
 * malicious host can still starve owner acts, as it can refuse them.
 */
const MAX_IN_FLIGHT = 256
/** rt38: of those, acts not signed by a known owner of the wallet they name (made-up wallets, strangers, a new owner's first create). */
const OTHERS_IN_FLIGHT = 32

/**
 * SECURITY (rt38): lanes are per wallet, so a stranger's acts naming N made-up wallets are N lanes, and with every slot
 * taken they waited in one FIFO: an owner's act sent after 1,200 of them landed after ~1,050
 * (test/adversarial/strangerFloodsRelayWithMadeUpWallets). Acts signed by a known owner of the wallet they name
 * (host/enclave/KnownOwners.ts: the enclave's owners read at the start of each connection, lanes39, and again when
 * that view is older than a second, owners40, then the signers of acts applied here; rt38b: the signer recovered here,
 * the wallet named in the body alone was a stranger's way in) are not queued behind the others: those run at most
 * OTHERS_IN_FLIGHT at once, so an owner's act waits for at most that
 * many ahead of it in the signer and governance. Each lane runs one act at a time, so the preferred acts are at most
 * one per such wallet, plus at most PREFERRED_CREATES new wallets' acts (lanes39: a CreateWallet or ImportWallet signed
 * by the owner it names when that key owns a wallet here; rt39: one per wallet its signer owns, running or waiting, so
 * a key owning one wallet cannot take them all). Availability only; a key that owns no wallet here (a new owner's first CreateWallet, an
 * ImportWallet of a new key by a new owner) is indistinguishable from a stranger's fresh key and waits in the others'
 * FIFO.
 *
 * SECURITY (rt39): a stranger makes keys owners cheaply (one CreateWallet, then a SetOwners naming 10 fresh keys), and
 * with 8 of them kept creating, an owner's CreateWallet found the 8 taken and waited in the others' FIFO behind a whole
 * flood (test/adversarial/strangerOwnersFillPreferredCreates). So a new wallet's act claims one wallet its signer owns
 * (one claim per wallet, running or waiting: the stranger's ten keys on one wallet are one claim) and, the 8 taken,
 * waits for one of them in a FIFO of its own: behind at most one act per wallet known here (the enclave holds ≤ 32),
 * never behind the others. Owners of one wallet creating at once: one claims it, the others' wait as strangers'.
 */
const PREFERRED_CREATES = 8

/** The lane (from the unsigned body) and what the act names: its wallet ('' for a CreateWallet) and a new wallet's owner. */
function namedBy(body: OwnerActBody): Named & { lane: string; create: boolean } {
  let m: Record<string, unknown> = {}
  try {
    const j: unknown = JSON.parse(body.message)
    if (j && typeof j === 'object') m = j as Record<string, unknown>
  } catch {} // the signer's view names no wallet either: the '' lane
  const str = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '')
  const create = body.primaryType === 'CreateWallet' || body.primaryType === 'ImportWallet'
  const wallet = body.primaryType === 'CreateWallet' ? '' : str(body.primaryType === 'ImportWallet' ? m.address : m.wallet)
  // A CreateWallet's view has a slot of its own (per act): serial per owner, a stranger's unsigned creates naming an
  // owner would queue ahead of that owner's.
  const lane = body.primaryType === 'CreateWallet' ? `create:${body.message}` : `wallet:${wallet}`
  return { lane, create, wallet, owner: create ? str(m.owner) : '' }
}

/**
 * SECURITY (scope38; availability only, the host decides nothing about policy): a lane was FIFO and unbounded, so a
 * stranger's flood of acts naming a wallet delayed its owner's act by the whole queue. Each lane now holds at most
 * LANE_WAITING acts waiting in each of two queues (one more is owner_act_queue_full, 429, retryAfterMs), and hands the
 * wallet to an act signed by one of its owners (as this host knows them: KnownOwners, owners40) before any other: an
 * owner's act waits for the act running on the wallet and the owners' acts ahead of it, never for strangers' acts.
 * The signature is checked only when the lane is busy (an idle lane runs the act at once), and only orders this host's
 * queue: governance verifies every act, and a malicious host can still starve owner acts, as it can refuse them.
 */
export const LANE_WAITING = 16
const LANE_RETRY_MS = 1_000
const LANE_FULL = Symbol('lane full')
/** `copies` (rt39): signer + act of each act waiting in `owners`: a second copy of one waits with the others. */
type Lane = { owners: Array<() => void>; others: Array<() => void>; copies: Set<string> }

/** A counting semaphore, FIFO. */
class Slots {
  private readonly waiting: Array<() => void> = []
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) this.free--
    else await new Promise<void>((r) => this.waiting.push(r))
  }
  give(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }
}

/**
 * Serial per lane (owners' acts first, then in arrival order), at most MAX_IN_FLIGHT running over all lanes, of which at
 * most OTHERS_IN_FLIGHT not signed by a known owner of the wallet they name (rt38; `known`, lanes39: KnownOwners).
 */
export class RelayLanes {
  /** A lane is here while an act runs on it (its queues: the acts waiting for it). */
  private readonly lanes = new Map<string, Lane>()
  private readonly all = new Slots(MAX_IN_FLIGHT)
  private readonly others = new Slots(OTHERS_IN_FLIGHT)
  /** rt39: wallets claimed by a preferred CreateWallet/ImportWallet (its signer owns it) running or waiting, one each. */
  private readonly claimed = new Set<string>()
  /** Preferred CreateWallets/ImportWallets running (lanes39: PREFERRED_CREATES at once; rt39: the rest wait here, FIFO). */
  private readonly creates = new Slots(PREFERRED_CREATES)
  /** Who owns which wallet, as this host knows it (read from `owners` at each enclave connection, lanes39, and when that view is older than a second, owners40). */
  readonly known: KnownOwners

  constructor(owners: OwnersSource | null = null, options: KnownOwnersOptions = {}) {
    this.known = new KnownOwners(owners, options)
  }

  async run<T>(named: Named & { lane: string; create: boolean }, body: OwnerActBody, f: () => Promise<T>): Promise<T | typeof LANE_FULL> {
    const key = named.lane
    // rt38b: the signer's check starts now, beside the wait for the lane (it is read once the act holds the lane);
    // lanes39: after the enclave's owners are read (owners40: at each connection and when older than a second), so a
    // restarted host knows them before it places any act. owners40: one question to one cache per act, its answer
    // both orders the lane and picks the pool (was two caches, which could disagree).
    const preferring = this.known.ready().then(() => this.known.prefers(body, named))
    if (this.lanes.has(key)) {
      const signer = await preferring
      // rt39: copies of one signed act (an owner's proposal signature, replayed while it is fresh) take one place in
      // the owners' queue, not all of it: a co-owner's signature of the same act still gets in.
      const copy = signer !== null ? `${signer}\n${body.primaryType}\n${body.message}` : null
      const lane = this.lanes.get(key) // the lane may have emptied while the signature was checked
      if (lane) {
        const owner = copy !== null && !lane.copies.has(copy)
        const queue = owner ? lane.owners : lane.others
        if (queue.length >= LANE_WAITING) return LANE_FULL
        if (owner) lane.copies.add(copy)
        await new Promise<void>((handed) => queue.push(handed))
        if (owner) lane.copies.delete(copy) // it holds the lane now: another copy may wait again
      } else this.lanes.set(key, { owners: [], others: [], copies: new Set() })
    } else this.lanes.set(key, { owners: [], others: [], copies: new Set() })
    let claim: string | null = null
    try {
      const signer = await preferring
      // A new wallet's act runs preferred if it claims a wallet its signer owns that no other such act claims (rt39).
      if (named.create && signer !== null) {
        claim = this.known.walletsOf(signer).find((w) => !this.claimed.has(w)) ?? null
        if (claim !== null) this.claimed.add(claim)
      }
      // rt38b: one known to own this wallet; lanes39: a new wallet's act by a key owning another runs preferred only
      // within the bound above (else a key owning one wallet, sending two imports per made-up address, would run one
      // per address preferred).
      const known = named.create ? claim !== null : signer !== null
      const pool = !known ? this.others : claim !== null ? this.creates : null
      await pool?.take()
      try {
        await this.all.take()
        try {
          return await f()
        } finally {
          this.all.give()
        }
      } finally {
        pool?.give()
      }
    } finally {
      if (claim !== null) this.claimed.delete(claim)
      const lane = this.lanes.get(key)!
      const next = lane.owners.shift() ?? lane.others.shift()
      if (next) next()
      else this.lanes.delete(key)
    }
  }
}
const sharedLanes = new RelayLanes()

async function relayOnce(
  call: <T extends 'ownerAct' | 'ownerActDecision'>(msg: Extract<EnclaveRequest, { type: T }>) => Promise<TypedResponse<T>>,
  governance: EnclaveClient | null,
  body: OwnerActBody,
): Promise<TypedResponse<'ownerActDecision'>> {
  const first = await call({ type: 'ownerAct', ...body })
  if (!first.ok) return first
  if (!('needs' in first.result)) return { ok: true, result: first.result }
  const unavailable = (why: string) => ({ ok: false as const, error: { code: 'governance_unavailable', message: `Governance did not decide the owner act: ${why}; nothing was applied` } })
  if (!governance) return unavailable('this host has no governance process configured')
  if (!governance.connected) await waitConnected(governance, CONNECT_WAIT_MS)
  let decision: Uint8Array
  try {
    const r = await governance.call({ type: 'decide', view: first.result.view, link: first.result.link })
    if (!r.ok) return { ok: false, error: r.error }
    const parsed = GovernanceDecideSchema.safeParse(r.result)
    if (!parsed.success) return unavailable('its answer does not parse')
    decision = parsed.data.decision
  } catch (err) {
    return unavailable(err instanceof BaseError ? err.shortMessage : String(err))
  }
  return call({ type: 'ownerActDecision', ...body, decision })
}

function waitConnected(client: EnclaveClient, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t)
      client.off('connected', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    client.once('connected', done)
  })
}
