/**
 * Issue 15/18: what sealing costs per seal and per request, and the sealed state per wallet, at the state sizes of
 * docs/bench.md "State growth" (33k spends in the rolling 24 h across 64 agents), for 1 (16 agents: the per-wallet limit), 4 and 20 wallets. In process
 * (sim sealer: AES-256-GCM; a KMS sealer adds one KMS round trip per blob). Runs against any checkout whose Enclave
 * has sealTx (before issue 15 every seal is the whole state; after, only the wallets changed plus the core blob).
 *   npx tsx scripts/bench/sealBench.ts [--json]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { Enclave } from '../../enclave/Enclave.js'
import { applyOwnerAct } from '../../enclave/owner/applyOwnerAct.js'
import { finishLoad } from '../../enclave/state/loadState.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { createSimSealer } from '../../sim/simSealer.js'

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C'
const SPENDS = 33_000
const AGENTS = 64

type Sealed = { blob: Uint8Array; wallets?: Array<{ blob: Uint8Array }> }

async function scenario(walletCount: number) {
  const enclave = new Enclave({
    mode: 'sim',
    sealer: createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-seal-')), 'k') }),
    nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1',
    admission: parseAdmission(undefined),
    log: () => {},
  })
  await enclave.loadSnapshot(null)
  await finishLoad(enclave)
  const act = async (owner: ReturnType<typeof privateKeyToAccount>, primaryType: Parameters<typeof signOwnerAct>[0]['primaryType'], message: Record<string, unknown>) => {
    const r = await applyOwnerAct(enclave, await signOwnerAct({ account: owner, primaryType, message }))
    if (!r.ok) throw new Error(JSON.stringify(r.error))
    return r.result as Record<string, unknown>
  }
  const wallets: Array<{ wallet: `0x${string}`; agents: string[]; owner: ReturnType<typeof privateKeyToAccount> }> = []
  for (let w = 0; w < walletCount; w++) {
    const owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`) // one owner each (an owner may hold 4 wallets)
    const created = await act(owner, 'CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()) })
    wallets.push({ wallet: created.wallet as `0x${string}`, agents: [], owner })
  }
  for (let a = 0; a < Math.min(AGENTS, 16 * walletCount); a++) { // at most 16 agents per wallet
    const w = wallets[a % walletCount]!
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const agentId = agentIdFromPublicKey(raw)
    await act(w.owner, 'RegisterAgent', { wallet: w.wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: String(w.agents.length + 1) })
    w.agents.push(agentId)
  }
  // 33k spends over the last 24 h, spread over the agents (each with its request event, as the hot path writes).
  const now = Date.now()
  for (let i = 0; i < SPENDS; i++) {
    const w = wallets[i % walletCount]!
    const agentId = w.agents[Math.floor(i / walletCount) % w.agents.length]!
    const at = now - 86_000_000 + Math.floor((i / SPENDS) * 86_000_000)
    enclave.state.apply({ type: 'ledger', wallet: w.wallet, events: [{ type: 'request', agentId, at },
      { type: 'spend', agentId, chainId: 84532, asset: USDC.toLowerCase(), amount: '10', payTo: PAY_TO.toLowerCase(), role: 'authorization', host: null, at, validBefore: null }] })
  }
  const seal = async () => {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const { sealed } = (await enclave.sealTx({ entries: [], snapshot: true })) as { sealed: Sealed }
    const cpu = process.cpuUsage(c0)
    const walletBytes = (sealed.wallets ?? []).reduce((n, w) => n + w.blob.length, 0)
    return { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0, coreBytes: sealed.blob.length, walletBytes, blobs: 1 + (sealed.wallets?.length ?? 0) }
  }
  await seal() // the first seal after this state: everything changed
  const median = <T>(xs: T[], k: (x: T) => number) => [...xs].sort((p, q) => k(p) - k(q))[xs.length >> 1]!
  const runs = async (touch: () => void) => {
    const out = []
    for (let i = 0; i < 15; i++) {
      touch()
      out.push(await seal())
    }
    return median(out, (r) => r.cpuUs)
  }
  let n = 0
  const spend = (w: { wallet: `0x${string}`; agents: string[] }) =>
    enclave.state.apply({ type: 'ledger', wallet: w.wallet, events: [{ type: 'request', agentId: w.agents[0]!, at: now + ++n }] })
  const oneChanged = await runs(() => spend(wallets[0]!))
  const allChanged = await runs(() => wallets.forEach(spend))
  return { wallets: walletCount, oneChanged, allChanged, sealedStateBytes: allChanged.coreBytes + allChanged.walletBytes }
}

const results = []
for (const w of [1, 4, 20]) results.push(await scenario(w))
if (process.argv.includes('--json')) console.log(JSON.stringify(results))
else {
  for (const r of results) {
    console.log(`${r.wallets} wallet(s), ${SPENDS} spends / ${Math.min(AGENTS, 16 * r.wallets)} agents in 24 h: sealed state ${(r.sealedStateBytes / 1024).toFixed(0)} KiB (${(r.sealedStateBytes / r.wallets / 1024).toFixed(1)} KiB per wallet)`)
    for (const [k, s] of [['one wallet changed (an owner act)', r.oneChanged], ['every wallet changed (a periodic seal under load)', r.allChanged]] as const) {
      console.log(`  ${k}: ${s.cpuUs} µs CPU, ${s.wallMs.toFixed(1)} ms, ${s.blobs} blob(s), core ${s.coreBytes} B + wallets ${s.walletBytes} B`)
    }
  }
}
