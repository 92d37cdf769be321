import { MAX_PENDING_SUMMARY_BYTES } from '../../core/policy/decidePolicy.js'
import { describe, expect, it } from 'vitest'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { MAX_OPEN_PENDING } from '../../core/policy/decidePolicy.js'
import { MAX_CHANNELS_PER_WALLET } from '../../core/policy/rules/checkEscrow.js'
import { OWNER_LIMITS } from '../../shared/owner/ownerLimits.js'
import { MAX_OWNERS } from '../../shared/owner/ownerActTypes.js'
import { MAX_SNAPSHOT_BYTES } from '../Enclave.js'
import { decode, encode } from 'cborg'
import { decodeCore, decodeWalletBlob, encodeCore, encodeWalletBlob } from '../../core/state/snapshotCodec.js'
import type { AgentRecord, PolicyRecord, WalletRecord } from '../../core/state/stateTypes.js'

const T0 = 1_800_000_000_000
const addr = (i: number) => `0x${i.toString(16).padStart(40, 'f')}` as `0x${string}`
const agentId = (w: number, a: number) => `agt_${(w * 1000 + a).toString(16).padStart(40, 'a')}`

/** One wallet at every owner-driven bound: max agents, max-size canonical policies (the wallet policy too), max permits per agent, 10 owners, open proposals and scheduled loosenings each holding a max-size policy. */
function fullWallet(w: number, withAgentTraffic: boolean): WalletRecord {
  const agents = new Map<string, AgentRecord>()
  const policies = new Map<string, PolicyRecord>()
  const ledger = new SpendLedger()
  for (let a = 0; a < OWNER_LIMITS.agentsPerWallet; a++) {
    const id = agentId(w, a)
    agents.set(id, { agentId: id, publicKey: new Uint8Array(32).fill(7), label: 'l'.repeat(64), status: 'active', registeredAt: T0 })
    policies.set(id, { agentId: id, json: `{"p":"${'x'.repeat(OWNER_LIMITS.policyBytes - 8)}"}`, version: Number.MAX_SAFE_INTEGER, hash: `0x${'ab'.repeat(32)}` })
    for (let p = 0; p < OWNER_LIMITS.permitsPerAgent; p++) {
      ledger.apply({
        type: 'permit_issued', permitId: `pmt_${w}_${a}_${p}_`.padEnd(80, 'p'), agentId: id, chainId: Number.MAX_SAFE_INTEGER, asset: addr(p),
        amount: ((1n << 256n) - 1n).toString(), payTo: addr(p + 1), host: 'h'.repeat(253), expiresAt: T0 + OWNER_LIMITS.permitLifetimeMs, exceedCaps: false, at: T0,
      })
    }
    if (withAgentTraffic) agentTraffic(ledger, id)
  }
  return {
    address: addr(w), privateKey: new Uint8Array(32), owner: addr(w + 1_000_000), label: 'w'.repeat(64), createdAt: T0,
    ownerSeq: Number.MAX_SAFE_INTEGER, rolledBack: false, agents, policies, ledger,
    walletPolicy: { json: `{"p":"${'x'.repeat(OWNER_LIMITS.policyBytes - 8)}"}`, version: Number.MAX_SAFE_INTEGER, hash: `0x${'ab'.repeat(32)}` },
    governance: { owners: Array.from({ length: MAX_OWNERS }, (_, i) => addr(i)), thresholds: { stop: 10, approve: 10, loosen: 10, agents: 10, owners: 10 }, delayMs: 30 * 86_400_000 },
    proposals: Array.from({ length: OWNER_LIMITS.proposalsPerWallet }, (_, i) => ({
      actHash: `0x${'cd'.repeat(32)}`, primaryType: 'SetWalletPolicy', message: JSON.stringify({ wallet: addr(w), version: String(Number.MAX_SAFE_INTEGER), policyHash: `0x${'ab'.repeat(32)}`, seq: String(Number.MAX_SAFE_INTEGER) }),
      policy: `{"p":"${'x'.repeat(OWNER_LIMITS.policyBytes - 8)}"}`, actClass: 'loosen' as const, threshold: 10, signers: Array.from({ length: MAX_OWNERS - 1 }, (_, j) => addr(j)),
      seq: Number.MAX_SAFE_INTEGER, createdAt: T0 + i, expiresAt: T0 + i,
    })),
    scheduled: Array.from({ length: OWNER_LIMITS.scheduledPerWallet }, (_, i) => ({
      actHash: `0x${'cd'.repeat(32)}`, agentId: agentId(w, i),
      policy: { agentId: agentId(w, i), json: `{"p":"${'x'.repeat(OWNER_LIMITS.policyBytes - 8)}"}`, version: Number.MAX_SAFE_INTEGER, hash: `0x${'ab'.repeat(32)}` },
      widens: Array.from({ length: 16 }, (_, j) => `rules.${'r'.repeat(62)}${j} (deny rule removed or changed)`), scheduledAt: T0, effectiveAt: T0,
    })),
  }
}

/**
 * What one agent's own traffic can hold in the ledger at the core/ledger caps: COUNTER_MAX requests and denials
 * at distinct milliseconds, one asset's spends over 27 h in per-minute buckets, and MAX_OPEN_PENDING pendings
 * with a 512-byte summary each.
 */
/** A pending summary at the enclave's cap (MAX_PENDING_SUMMARY_BYTES of canonical JSON). */
const SUMMARY = {
  agentId: 'agt_x',
  host: null,
  describe: 'message',
  action: { kind: 'raw_message' as const, length: 1, message: { text: 'y'.repeat(MAX_PENDING_SUMMARY_BYTES - 200) } },
  free: [],
  validForSeconds: null,
}

function agentTraffic(ledger: SpendLedger, id: string): void {
  const t = T0 + 1
  for (let m = 0; m < 27 * 60; m++) ledger.apply({ type: 'spend', agentId: id, chainId: 8453, asset: addr(9), amount: '999999999999', payTo: addr(8), role: 'authorization', host: null, at: t + m * 60_000, validBefore: null })
  const end = t + 27 * 60 * 60_000
  for (let i = 0; i < 10_000; i++) ledger.apply({ type: 'request', agentId: id, at: end + i })
  for (let i = 0; i < 10_000; i++) ledger.apply({ type: 'denial', agentId: id, code: 'policy_x', at: end + i })
  for (let i = 0; i < MAX_OPEN_PENDING; i++) {
    ledger.apply({ type: 'pending_created', pendingId: `pnd_${id}_${i}`, agentId: id, key: `0x${'cd'.repeat(32)}`, digest: `0x${'cd'.repeat(32)}`, at: end, expiresAt: end + 86_400_000, summary: SUMMARY })
  }
}

/** The sealed state's plaintext bytes (issue 15): the core blob naming every wallet, plus one blob per wallet. */
function snapshotBytes(wallets: WalletRecord[]): number {
  return core(wallets).length + wallets.reduce((n, w) => n + walletBlob(w).length, 0)
}

function core(wallets: WalletRecord[]): Uint8Array {
  return encodeCore({
    stateVersion: Number.MAX_SAFE_INTEGER, createdAt: T0, receiptKeyPkcs8: new Uint8Array(48), auditHead: { seq: Number.MAX_SAFE_INTEGER, hash: `0x${'ef'.repeat(32)}` },
    entryMacKey: new Uint8Array(32), coreId: new Uint8Array(16), createNonces: Array.from({ length: OWNER_LIMITS.createNonces }, (_, i) => [`0x${i.toString(16).padStart(64, '0')}`, T0]),
    replay: [], directory: wallets.map((w) => [w.address, Number.MAX_SAFE_INTEGER, new Uint8Array(32)]),
  })
}

function walletBlob(wallet: WalletRecord): Uint8Array {
  return encodeWalletBlob({ coreId: new Uint8Array(16), version: Number.MAX_SAFE_INTEGER, auditSeq: Number.MAX_SAFE_INTEGER, replay: [], wallet })
}

/**
 * The worst-case sealed snapshot implied by the owner limits (docs/security.md, "Bounded state"). Sealing adds
 * a fixed header (AES-GCM IV + tag + CBOR envelope, < 1 KiB).
 */
describe('worst-case snapshot size from the limits', () => {
  it('every owner-driven bound at once fits under the state-size guard, itself half the frame limit', () => {
    const one = snapshotBytes([fullWallet(0, false)])
    const empty = snapshotBytes([])
    const worst = empty + (one - empty) * OWNER_LIMITS.walletsTotal
    expect(OWNER_LIMITS.stateSoftBytes * 2).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES)
    expect(worst).toBeLessThan(OWNER_LIMITS.stateSoftBytes)
    expect({ perWallet: one - empty, worst, soft: OWNER_LIMITS.stateSoftBytes, max: MAX_SNAPSHOT_BYTES }).toMatchInlineSnapshot(`
      {
        "max": 32505856,
        "perWallet": 480342,
        "soft": 15728640,
        "worst": 15451129,
      }
    `)
  })

  it('one agent\'s own traffic at the core/ledger caps (measured: see docs/security.md for what it implies)', () => {
    const base = snapshotBytes([fullWallet(0, false)])
    const traffic = snapshotBytes([fullWallet(0, true)])
    const perAgent = Math.round((traffic - base) / OWNER_LIMITS.agentsPerWallet)
    expect({ perAgent, agentsThatFitTheGuardHeadroom: Math.floor((MAX_SNAPSHOT_BYTES - OWNER_LIMITS.stateSoftBytes) / perAgent) }).toMatchInlineSnapshot(`
      {
        "agentsThatFitTheGuardHeadroom": 22,
        "perAgent": 733539,
      }
    `)
  })
  it('one wallet at the batch-settlement channel cap (every channel with the largest amounts; measured)', () => {
    const base = fullWallet(0, false)
    const empty = snapshotBytes([base])
    const max = ((1n << 128n) - 1n).toString()
    for (let i = 0; i < MAX_CHANNELS_PER_WALLET; i++) {
      const channelId = `0x${i.toString(16).padStart(64, '0')}`
      base.ledger.apply({ type: 'channel', agentId: agentId(0, 0), channelId, chainId: Number.MAX_SAFE_INTEGER, asset: addr(i), locked: max, signed: max, at: T0 })
      base.ledger.apply({ type: 'channel_released', channelId, amount: max, at: T0 })
    }
    const perWallet = snapshotBytes([base]) - empty
    // The sealed form decodes back (WalletBlobSchema) with every channel's totals intact.
    const back = decodeWalletBlob(walletBlob(base)).wallet.ledger
    expect(back.channelCount()).toBe(MAX_CHANNELS_PER_WALLET)
    expect(back.channel(`0x${'0'.repeat(63)}5`)).toEqual({ chainId: Number.MAX_SAFE_INTEGER, asset: addr(5), deposited: (1n << 128n) - 1n, signed: (1n << 128n) - 1n, released: (1n << 128n) - 1n })
    // All wallets at the cap stay well inside the headroom between the owner guard and the frame limit.
    expect(perWallet * OWNER_LIMITS.walletsTotal).toBeLessThan((MAX_SNAPSHOT_BYTES - OWNER_LIMITS.stateSoftBytes) / 4)
    expect({ perWallet, allWallets: perWallet * OWNER_LIMITS.walletsTotal }).toMatchInlineSnapshot(`
      {
        "allWallets": 2531744,
        "perWallet": 79117,
      }
    `)
  })
})

/** The blobs parse by their schemas: the worst case round-trips exactly; any other shape is state_invalid. */
describe('snapshot decoding by schema', () => {
  it('a full wallet with agent traffic decodes to the same state', () => {
    const wallet = fullWallet(0, true)
    const back = decodeWalletBlob(walletBlob(wallet)).wallet
    expect(back.ledger.toJSON()).toEqual(wallet.ledger.toJSON())
    expect({ ...back, ledger: null }).toEqual({ ...wallet, ledger: null })
    expect(decodeCore(core([wallet])).createNonces.length).toBe(OWNER_LIMITS.createNonces)
  })

  it('a wrong version, an extra or missing field, a bad key length or a malformed ledger → state_invalid', () => {
    const raw = decode(walletBlob(fullWallet(1, false))) as Record<string, any>
    const bad = (f: (r: Record<string, any>) => void) => {
      const r = decode(encode(raw)) as Record<string, any>
      f(r)
      return () => decodeWalletBlob(encode(r))
    }
    expect(bad(() => {})).not.toThrow()
    for (const f of [
      (r: Record<string, any>) => { r.v = 2 },
      (r: Record<string, any>) => { r.coreId = new Uint8Array(15) },
      (r: Record<string, any>) => { r.wallet.extra = 1 },
      (r: Record<string, any>) => { delete r.wallet.ownerSeq },
      (r: Record<string, any>) => { r.wallet.privateKey = new Uint8Array(31) },
      (r: Record<string, any>) => { r.wallet.agents[0].status = 'paused' },
      (r: Record<string, any>) => { r.wallet.ledger = '{"v":1}' },
      (r: Record<string, any>) => { r.wallet.ledger = JSON.stringify({ ...JSON.parse(r.wallet.ledger), frozen: { a: { reason: 1, at: 0 } } }) },
    ]) {
      expect(bad(f)).toThrow(expect.objectContaining({ code: 'state_invalid' }))
    }
  })
})
