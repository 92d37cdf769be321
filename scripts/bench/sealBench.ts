/**
 * Issue 15/18: what sealing costs per seal and per request, and the sealed state per wallet, at the state sizes of
 * docs/bench.md "State growth" (33k spends in the rolling 24 h across 64 agents), for 1 (16 agents: the per-wallet limit), 4 and 20 wallets. In process
 * (sim sealer: AES-256-GCM; a KMS sealer adds one KMS round trip per blob). Runs against any checkout whose Enclave
 * has sealTx (before issue 15 every seal is the whole state; after, only the wallets changed plus the core blob).
 *   npx tsx scripts/bench/sealBench.ts [--json]
 *
 * `--replay` (issue 18, replay18): the staggered periodic seals of the writer with the agent request ids of a full
 * replay window, at `--rate` requests/s (1,000) of virtual time over `--wallets` wallets × `--agents` agents (4 × 16,
 * the bench's): each request is admitted to the replay cache, audited (its entry carries the id) and counted in its
 * wallet's ledger, then sealTx runs as the writer does (a staggered seal every snapshotEvery/16 entries; the host
 * acknowledges each). `--fill` requests fill the window (~32 s), then `--measure` requests are measured: CPU µs and
 * wall ms per seal (the writer's stall), ids per seal. tail38: where the writer only captures a periodic seal, the stall is the capture and the encryption's
 * CPU (a later turn, outside the writer) is reported apart (`encryptCpuUs`). `--root` runs another checkout (before/after); `--no-ids`
 * skips the replay cache (the seal's cost without ids).
 *   npx tsx scripts/bench/sealBench.ts --replay [--root /other/checkout] [--rate 1000] [--no-ids] [--seal-delay-ms D]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateKeyToAccount } from 'viem/accounts'
import { Enclave } from '../../enclave/Enclave.js'
import { applyOwnerAct } from '../../test/helpers/ownerActInProcess.js'
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
    const created = await act(owner, 'CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id })
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

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1]! : d
}

async function replayScenario() {
  const root = arg('root', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'))
  const [W, A, RATE, FILL, MEASURE] = [arg('wallets', '4'), arg('agents', '16'), arg('rate', '1000'), arg('fill', '36000'), arg('measure', '24000')].map(Number) as [number, number, number, number, number]
  const ids = !process.argv.includes('--no-ids')
  const m = async (p: string) => import(path.join(root, p))
  const { Enclave: E } = await m('enclave/Enclave.ts')
  const { applyOwnerAct: act0 } = await m('test/helpers/ownerActInProcess.ts')
  const { finishLoad: fin } = await m('enclave/state/loadState.ts')
  const { createSimSealer: sealer } = await m('sim/simSealer.ts')
  const { signOwnerAct: signAct } = await m('shared/owner/signOwnerAct.ts')
  let t = Date.now()
  // tail38: `--seal-delay-ms D` waits D ms before each blob's seal, as a KMS round trip does (Nitro: one per blob).
  const delay = Number(arg('seal-delay-ms', '0'))
  const sim = sealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-seal-')), 'k') })
  const slow = { kind: sim.kind, unseal: (p: unknown) => sim.unseal(p), seal: async (p: unknown) => (delay && (await new Promise((r) => setTimeout(r, delay))), sim.seal(p)) }
  const enclave = new E({ mode: 'sim', sealer: slow, nsm: { kind: 'mock', attest: async () => new Uint8Array() },
    configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 5000, now: () => t })
  await enclave.loadSnapshot(null)
  await fin(enclave)
  const agents: Array<{ wallet: string; agentId: string }> = []
  for (let w = 0; w < W; w++) {
    const owner = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`)
    const act = async (primaryType: string, message: Record<string, unknown>) => {
      const r = await act0(enclave, await signAct({ account: owner, primaryType, message }))
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      return r.result as Record<string, unknown>
    }
    const { wallet } = (await act('CreateWallet', { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(t), ...(enclave.audit.id ? { auditChain: enclave.audit.id } : {}) } /* a tree before gov36 names none */)) as { wallet: string }
    for (let a = 0; a < A; a++) {
      const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
      const agentId = agentIdFromPublicKey(raw)
      await act('RegisterAgent', { wallet, agentId, agentPublicKey: `0x${raw.toString('hex')}`, label: '', seq: String(a + 1) })
      agents.push({ wallet, agentId })
    }
  }
  const first = await enclave.sealTx({ entries: [], snapshot: true })
  await enclave.catchUp(enclave.audit.head().seq, first.sealed.version)
  t += 2_100 // past the replay floor
  const none = { action: null, reason: null, policy: null, rule: null, code: null, signedHash: null }
  const seals: Array<{ cpuUs: number; ms: number; bytes: number; core: number }> = []
  // tail38: a checkout whose writer only captures a periodic seal (pendingSeal) encrypts it in a later turn and a later
  // block carries it: the writer's stall is the capture; the encryption's CPU (same thread, outside the writer) apart.
  const late = 'pendingSeal' in enclave
  const stalls: Array<{ cpuUs: number; ms: number }> = []
  const encrypts: number[] = []
  let other = 0
  for (let i = 0; i < FILL + MEASURE; i++) {
    t += 1000 / RATE
    const a = agents[(i * 7) % agents.length]!
    const nonce = randomBytes(16).toString('hex')
    const now = Math.floor(t)
    if (ids) enclave.replay.admit(a.agentId, nonce, now - (i % 50), now)
    const tx = enclave.beginTx()
    enclave.appendEntry(tx, { ...none, wallet: a.wallet, agentId: a.agentId, requestId: nonce, event: 'sign_allowed', verdict: 'allow', ledger: [] })
    enclave.state.apply({ type: 'ledger', wallet: a.wallet, events: [{ type: 'request', agentId: a.agentId, at: now }] })
    const had = late && enclave.pendingSeal
    const c0 = process.cpuUsage()
    const w0 = performance.now()
    const p = await enclave.sealTx(tx)
    const cpu = process.cpuUsage(c0)
    const ms = performance.now() - w0
    const captured = late && enclave.pendingSeal && enclave.pendingSeal !== had
    if (captured) {
      if (i >= FILL) stalls.push({ cpuUs: cpu.user + cpu.system, ms })
      const e0 = process.cpuUsage()
      await new Promise((resolve) => setImmediate(resolve)) // the encryption's turn
      while (enclave.pendingSeal && !enclave.pendingSeal.made) await new Promise((resolve) => setTimeout(resolve, 1)) // --seal-delay-ms
      const e = process.cpuUsage(e0)
      if (i >= FILL) encrypts.push(e.user + e.system)
    }
    if (p.sealed) {
      if (i >= FILL && !late) stalls.push({ cpuUs: cpu.user + cpu.system, ms })
      if (i >= FILL) seals.push({ cpuUs: cpu.user + cpu.system, ms, core: p.sealed.blob.length, bytes: p.sealed.blob.length + (p.sealed.wallets ?? []).reduce((n: number, x: { blob: Uint8Array }) => n + x.blob.length, 0) })
      await enclave.catchUp(enclave.audit.head().seq, p.sealed.version)
    } else if (i >= FILL && !captured) other = Math.max(other, ms)
  }
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!
  const cpu = stalls.map((s) => s.cpuUs)
  const ms = stalls.map((s) => s.ms)
  return { root, wallets: W, agents: A, rate: RATE, ids, idsInWindow: [...enclave.replay.ids].length, seals: seals.length,
    cpuUs: { median: q(cpu, 0.5), p90: q(cpu, 0.9), max: Math.max(...cpu) }, wallMs: { median: +q(ms, 0.5).toFixed(2), p90: +q(ms, 0.9).toFixed(2), max: +Math.max(...ms).toFixed(2) },
    bytes: { median: q(seals.map((s) => s.bytes), 0.5), coreMedian: q(seals.map((s) => s.core), 0.5) }, maxNonSealMs: +other.toFixed(2),
    ...(late && { encryptCpuUs: { median: q(encrypts, 0.5), p90: q(encrypts, 0.9), max: Math.max(...encrypts) } }) }
}

if (process.argv.includes('--replay')) {
  const r = await replayScenario()
  if (process.argv.includes('--json')) console.log(JSON.stringify(r))
  else console.log(`${r.root}: ${r.wallets} wallets × ${r.agents} agents, ${r.rate} requests/s, ids ${r.ids ? 'on' : 'off'} (${r.idsInWindow} in the window at the end): ${r.seals} seals, CPU per seal median ${r.cpuUs.median} µs, p90 ${r.cpuUs.p90}, max ${r.cpuUs.max}; stall (wall) median ${r.wallMs.median} ms, p90 ${r.wallMs.p90}, max ${r.wallMs.max}; bytes per seal median ${r.bytes.median} (core ${r.bytes.coreMedian}); max sealTx without a seal ${r.maxNonSealMs} ms${r.encryptCpuUs ? `; encryption outside the writer (CPU µs per seal) median ${r.encryptCpuUs.median}, p90 ${r.encryptCpuUs.p90}` : ""}`)
  process.exit(0)
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
