/**
 * `bursar devchain`: a local development environment that keeps running until Ctrl-C: anvil with Circle's USDC, an
 * x402 paid API, bursar (host + simulated enclave on the `make sim` data dir and port), a wallet funded with USDC
 * and an agent with an owner-signed policy. It writes the agent key, the policy, a ready-to-run `pay.mjs` and
 * `devchain.json` (every address and URL) into `--dir`, so the README's SDK snippet pays on the first try.
 *
 * Restarts are cheap and keep identities: the enclave state lives in the data dir (same receipt key, wallet and
 * agent; the owner CLI's pinned key stays valid), anvil redeploys USDC at the same address (same deployer, same
 * nonce), and the wallet is funded again on the fresh chain.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import type { Address, Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import YAML from 'yaml'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { type AgentKey, AgentKeySchema } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type Policy, parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { ensureBundles } from '../buildEnclave.js'
import { packageRoot } from '../lib/packageRoot.js'
import { type Stack, startStack } from '../lib/startStack.js'
import { deployFiatToken } from './deployFiatToken.js'
import { startAnvil } from './startAnvil.js'
import { startPaidApi } from './startPaidApi.js'

export const DEVCHAIN_CHAIN_ID = 84532
/** 0.01 USDC per call on /paid; /premium costs more than the agent's rule allows without the owner. */
const PRICE = 10_000n
const PREMIUM_PRICE = 500_000n
const FUNDING = 100_000_000n // 100 USDC

export type DevchainOptions = {
  /** Where the agent key, policy, pay.mjs and devchain.json go (default ./.bursar/devchain). */
  dir: string
  /** bursar host port (default 8402, the `make sim` port) or a running host to use instead. */
  port: number
  host?: string | undefined
  /** anvil's JSON-RPC port (default 8545) and the paid API's (default 8404). */
  chainPort: number
  apiPort: number
  /** The owner: this key signs the wallet, agent and policy acts (default: the owner CLI's key, created if missing). */
  owner: LocalAccount
  ownerKeySource: string
  say: (line: string) => void
}

export type DevchainInfo = {
  host: string
  rpcUrl: string
  chainId: number
  usdc: Address
  paidUrl: string
  premiumUrl: string
  merchant: Address
  owner: Address
  wallet: Address
  agentId: string
  agentKeyFile: string
  policyFile: string
  payScript: string
}

export type Devchain = DevchainInfo & { stop: () => Promise<void> }

async function portFree(port: number): Promise<boolean> {
  if (port === 0) return true
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

export class DevchainError extends Error {}

export async function startDevchain(o: DevchainOptions): Promise<Devchain> {
  const busy: string[] = []
  if (!o.host && !(await portFree(o.port))) busy.push(`bursar port ${o.port} (is \`make sim\` running? stop it, or pass --host http://127.0.0.1:${o.port} to use it, or --port)`)
  if (!(await portFree(o.chainPort))) busy.push(`chain port ${o.chainPort} (another anvil/hardhat? pass --chain-port)`)
  if (!(await portFree(o.apiPort))) busy.push(`paid API port ${o.apiPort} (pass --api-port)`)
  if (busy.length) throw new DevchainError(`in use: ${busy.join('; ')}`)

  const dir = path.resolve(o.dir)
  mkdirSync(dir, { recursive: true })
  const stops: Array<() => Promise<unknown>> = []
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
  try {
    o.say(`▶ local chain: anvil on 127.0.0.1:${o.chainPort} (chain id ${DEVCHAIN_CHAIN_ID}), Circle FiatTokenV2_2 (USDC)`)
    const anvil = await startAnvil({ chainId: DEVCHAIN_CHAIN_ID, port: o.chainPort })
    stops.push(() => anvil.stop())
    const [deployer, admin, facilitator, , merchantKey] = anvil.accounts as [Hex, Hex, Hex, Hex, Hex]
    const token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer, admin })
    const merchant = privateKeyToAccount(merchantKey).address

    let host = o.host
    let stack: Stack | undefined
    if (!host) {
      const dataDir = path.resolve(process.env.BURSAR_DATA_DIR ?? path.join(packageRoot(import.meta.url), 'data'))
      o.say(`▶ bursar: host + simulated enclave on 127.0.0.1:${o.port} (data ${dataDir}, kept across restarts)`)
      await ensureBundles(() => o.say('▶ building the enclave and host bundles …'))
      // Audit reads open on loopback, like make sim (the banner says so).
      stack = await startStack({ dataDir, port: o.port, env: { BURSAR_AUDIT_AUTH: process.env.BURSAR_AUDIT_AUTH ?? 'open' } })
      stops.push(() => stack!.stop())
      host = stack.url
      // The simulated NSM writes its PKI on the first attestation: ask once so `attestation fetch --root` works.
      await fetch(`${host}/v1/attestation?nonce=${'00'.repeat(32)}`).then((r) => r.arrayBuffer(), () => undefined)
    } else o.say(`▶ bursar: using the host you named, ${host}`)

    const api = await startPaidApi({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      asset: token.address,
      payTo: merchant,
      price: PRICE,
      facilitatorKey: facilitator,
      port: o.apiPort,
      routes: { 'GET /paid': {}, 'GET /premium': { price: PREMIUM_PRICE } },
    })
    stops.push(() => api.stop())
    o.say(`▶ paid API (x402 v2, exact/EIP-3009): ${api.url}/paid (0.01 USDC), ${api.url}/premium (0.50 USDC: needs the owner's approval)`)

    const client = new OwnerClient(host, o.owner)
    const stateFile = path.join(dir, 'devchain.json')
    const agentKeyFile = path.join(dir, 'agent.key.json')
    const policyFile = path.join(dir, 'policy.yaml')
    const prev = readPrevious(stateFile, agentKeyFile, host, o.owner.address)
    let wallet: Address
    let agentKey: AgentKey
    const known = prev ? await client.wallet(prev.wallet).catch(() => undefined) : undefined
    const agentKnown = known?.agents.find((a) => a.agentId === prev?.agentKey.agentId && a.status === 'active')
    if (prev && known && agentKnown) {
      wallet = prev.wallet
      agentKey = prev.agentKey
      // A key file from before receipt checks (issue 15): add the receipt key the owner client trusts.
      if (!agentKey.receiptPublicKey) {
        agentKey = { ...agentKey, receiptPublicKey: await client.receiptKey() }
        writeFileSync(agentKeyFile, `${JSON.stringify(agentKey, null, 2)}\n`, { mode: 0o600 })
      }
      o.say(`▶ wallet ${wallet} and agent ${agentKey.agentId} from the previous run (enclave state kept)`)
    } else {
      wallet = (await client.createWallet('devchain')).wallet
      agentKey = { ...generateAgentKey({ wallet, host }), receiptPublicKey: await client.receiptKey() }
      await client.act('RegisterAgent', wallet, { agentId: agentKey.agentId, agentPublicKey: `0x${agentKey.publicKey}`, label: 'devchain agent' })
      writeFileSync(agentKeyFile, `${JSON.stringify(agentKey, null, 2)}\n`, { mode: 0o600 })
      o.say(`▶ owner ${o.owner.address} created wallet ${wallet} and registered agent ${agentKey.agentId}`)
    }
    // Install the policy unless the enclave already holds this exact one (a restart: same token address, same merchant).
    const current = agentKnown?.policy ?? null
    let installed = devchainPolicy({ wallet, agentId: agentKey.agentId, usdc: token.address, merchant, version: current ? current.version : 1 })
    if (!current || current.hash.toLowerCase() !== policyHash(installed).toLowerCase()) {
      if (current) installed = { ...installed, version: current.version + 1 }
      await client.act('SetPolicy', wallet, { agentId: agentKey.agentId, version: String(installed.version), policyHash: policyHash(installed) }, JSON.stringify(installed))
    }
    writeFileSync(
      policyFile,
      `# The policy bursar devchain installed for ${agentKey.agentId} (owner-signed). Edit it, raise version, then:\n#   bursar owner policy set --wallet ${wallet} --agent ${agentKey.agentId} ${path.relative(process.cwd(), policyFile) || policyFile}\n${YAML.stringify(installed)}`,
    )
    await token.mint(wallet, FUNDING)
    o.say(`▶ wallet funded with ${Number(FUNDING) / 1e6} USDC on the local chain; policy v${installed.version}: ≤ 0.10 USDC per call without asking, ≤ 20 USDC per 24 h, only to ${merchant}`)

    const payScript = path.join(dir, 'pay.mjs')
    writeFileSync(payScript, payScriptText(agentKeyFile, `${api.url}/paid`))
    const info: DevchainInfo = {
      host,
      rpcUrl: anvil.rpcUrl,
      chainId: DEVCHAIN_CHAIN_ID,
      usdc: token.address,
      paidUrl: `${api.url}/paid`,
      premiumUrl: `${api.url}/premium`,
      merchant,
      owner: o.owner.address,
      wallet,
      agentId: agentKey.agentId,
      agentKeyFile,
      policyFile,
      payScript,
    }
    writeFileSync(stateFile, `${JSON.stringify(info, null, 2)}\n`)
    return { ...info, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

function readPrevious(stateFile: string, agentKeyFile: string, host: string, owner: Address): { wallet: Address; agentKey: AgentKey } | undefined {
  if (!existsSync(stateFile) || !existsSync(agentKeyFile)) return undefined
  try {
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<DevchainInfo>
    const agentKey = AgentKeySchema.parse(JSON.parse(readFileSync(agentKeyFile, 'utf8')))
    if (s.host !== host || s.owner?.toLowerCase() !== owner.toLowerCase() || !s.wallet) return undefined
    return { wallet: s.wallet, agentKey }
  } catch {
    return undefined
  }
}

/** Pays for x402 calls to the local merchant; larger ones wait for the owner (pending), nothing else is allowed. */
export function devchainPolicy(p: { wallet: Address; agentId: string; usdc: Address; merchant: Address; version: number }): Policy {
  return parsePolicy({
    version: p.version,
    wallet: p.wallet,
    agentId: p.agentId,
    description: 'bursar devchain: pay the local x402 API; above 0.10 USDC ask the owner',
    timeZone: 'UTC',
    tokens: [{ chainId: DEVCHAIN_CHAIN_ID, asset: p.usdc, name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' }],
    budgets: [{ chainId: DEVCHAIN_CHAIN_ID, asset: p.usdc, perTx: '1000000', rolling24h: '20000000' }],
    rules: [
      {
        id: 'local-x402-api',
        effect: 'allow',
        description: 'x402 payments to the devchain merchant, up to 0.10 USDC each; larger ones go to the owner',
        kinds: ['eip3009', 'permit2_transfer'],
        payTo: { in: [p.merchant] },
        hosts: { in: ['127.0.0.1', 'localhost'] },
        maxValiditySeconds: 600,
        caps: [{ chainId: DEVCHAIN_CHAIN_ID, asset: p.usdc, perTx: '100000' }],
        onViolation: 'pending',
      },
    ],
  })
}

function payScriptText(agentKeyFile: string, url: string): string {
  return `// Written by \`bursar devchain\`: the README's SDK snippet, pointed at the local paid API. Run: node ${path.relative(process.cwd(), path.dirname(agentKeyFile)) || '.'}/pay.mjs
import { createPayingFetch, loadAgentKey } from 'bursar/agent'

const pay = createPayingFetch({ agentKey: loadAgentKey(${JSON.stringify(agentKeyFile)}) }) // host + wallet come from the key file
const res = await pay(${JSON.stringify(url)}) // 402 → the enclave signs within policy → 200
console.log(res.status, await res.text())
`
}
