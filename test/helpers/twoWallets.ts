import type { Hex, LocalAccount } from 'viem'
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts'
import { expect } from 'vitest'
import { type AgentFloor, defaultAgentFloor } from './startStack.js'
import type { ResponseFrame } from '../../shared/protocol/messages.js'
import {
  type AgentSignOk,
  MaliciousHost,
  type SealedSnapshot,
  type TestAgent,
  eip3009,
  paymentPolicy,
  signAgentRequest,
  verifyPayment,
} from './maliciousHost.js'

export const CAP = 10_000n
export const AMOUNT = 2_000n

export type TwoWallets = {
  host: MaliciousHost
  owner: LocalAccount
  /** Lower-case addresses (as the enclave names wallet blobs). */
  a: { wallet: Hex; agent: TestAgent }
  b: { wallet: Hex; agent: TestAgent }
  /** A signed payment request of AMOUNT from `w`'s agent. */
  pay: (w: { wallet: Hex; agent: TestAgent }) => ReturnType<typeof signAgentRequest>
  /** Pays AMOUNT from `w` and checks the signature with viem; returns the receipt. */
  payOk: (w: { wallet: Hex; agent: TestAgent }) => Promise<AgentSignOk['receipt']>
}

/** Issue 15: a real simulated enclave with two wallets (one agent each, cap CAP per 24 h), both sealed. */
export async function startWithTwoWallets(agentFloor: AgentFloor = defaultAgentFloor()): Promise<TwoWallets> {
  const host = new MaliciousHost()
  host.agentFloor = agentFloor
  await host.startEnclave()
  const ready = await host.bootstrapHonest()
  if (!ready.ok) throw new Error(`fresh bootstrap refused: ${ready.error.code}`)
  const owner = privateKeyToAccount(generatePrivateKey())
  const policy = paymentPolicy({ perTx: '5000', rolling24h: CAP.toString() })
  const make = async () => {
    const wallet = (await host.createWallet(owner)).toLowerCase() as Hex
    const { agent } = await host.setupAgent(owner, wallet, policy)
    return { wallet, agent }
  }
  const a = await make()
  const b = await make()
  const pay = (w: { wallet: Hex; agent: TestAgent }) => signAgentRequest({ agent: w.agent, wallet: w.wallet, operation: eip3009({ wallet: w.wallet, value: AMOUNT }) })
  const payOk = async (w: { wallet: Hex; agent: TestAgent }) => {
    const req = pay(w)
    const r = await host.agentSign(req)
    expect(r.ok).toBe(true)
    const res = (r as { result: AgentSignOk }).result
    expect(await verifyPayment(w.wallet, req.parsed, res.signature)).toBe(true)
    return res.receipt
  }
  return { host, owner, a, b, pay, payOk }
}

/** The blob of `wallet` an honest store holds beside core `snap`. */
export function blobOf(host: MaliciousHost, snap: SealedSnapshot, wallet: string): Uint8Array {
  const w = host.walletsFor(snap.blob).find((x) => x.wallet === wallet.toLowerCase())
  if (!w) throw new Error(`no blob of ${wallet} beside core ${snap.version}`)
  return w.blob
}

/**
 * Issue 15 step 3: a second real enclave of the same lineage (same data dir: the sim sealing key) that loaded A's first
 * core (sealed at A's fresh start: the lineage's core id, entry MAC key and receipt key, no wallet). From there the two
 * enclaves keep separate chains; wallets move between them with dropWallet / loadWallet. It has A's agentFloor.
 */
export async function secondEnclave(a: MaliciousHost): Promise<MaliciousHost> {
  const b = new MaliciousHost(a.dataDir, 'b.sock')
  b.agentFloor = a.agentFloor
  await b.startEnclave()
  const first = a.snapshots[0]!
  const { last } = await b.bootstrap({ snapshot: first.blob })
  if (!last.ok) throw new Error(`B's load of A's first core refused: ${last.error.code}`)
  return b
}

/** The entry texts naming `wallet` in `entries` (one enclave's chain), after seq `after`. */
export function walletEntries(entries: string[], wallet: string, after = -1): string[] {
  return entries.filter((t) => {
    const e = JSON.parse(t) as { seq: number; wallet: string | null }
    return e.seq > after && e.wallet?.toLowerCase() === wallet.toLowerCase()
  })
}

/** The final blob of `wallet` in a dropWallet answer. */
export function droppedBlob(r: ResponseFrame, wallet: string): { version: number; blob: Uint8Array } {
  const w = r.persist?.sealed?.wallets?.find((x) => x.wallet === wallet.toLowerCase())
  if (!r.ok || !w) throw new Error(`no final blob of ${wallet} in the drop answer: ${JSON.stringify(r.ok ? r.result : r.error)}`)
  return { version: w.version, blob: new Uint8Array(w.blob) }
}
