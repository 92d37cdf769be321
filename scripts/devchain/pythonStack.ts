// A dev stack for the Python SDK's tests: anvil + FiatToken, a real host + simulated enclave, two reference x402
// paid APIs (one priced within the agent's per-payment cap, one above it), a wallet and an agent under a policy;
// plus a second agent and paid API for the examples/python test.
// Prints one JSON line (where everything is) and a /state URL, then runs until stdin closes or SIGTERM.
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { ensureBundles } from '../buildEnclave.js'
import { startStack } from '../lib/startStack.js'
import { deployFiatToken } from './deployFiatToken.js'
import { setupAgent } from './setupAgent.js'
import { startAnvil } from './startAnvil.js'
import { startPaidApi } from './startPaidApi.js'

const CHAIN = 84532
// Every bundle the stack spawns, not only the first one written: pytest starts beside vitest, whose global setup may be
// half way through writing dist/ (a fresh clone's pytest found enclave.sim.mjs and no host.mjs yet: 12 setup errors).
await ensureBundles()
const anvil = await startAnvil({ chainId: CHAIN })
const [deployer, admin, facilitator, ownerKey, merchantKey] = anvil.accounts
const token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
const owner = privateKeyToAccount(ownerKey!)
const merchant = privateKeyToAccount(merchantKey!).address
const stack = await startStack()
const { wallet } = await new OwnerClient(stack.url, owner).createWallet('python')
await token.mint(wallet, 1_000_000n)
const common = { rpcUrl: anvil.rpcUrl, chain: anvil.chain, asset: token.address, facilitatorKey: facilitator!, payTo: merchant }
const api = await startPaidApi({ ...common, price: 10_000n })
const pricey = await startPaidApi({ ...common, price: 60_000n })
// Its own paid API and agent for examples/python (so the SDK tests' counts stay theirs).
const exampleApi = await startPaidApi({ ...common, price: 10_000n })
const policy = {
  version: 1,
  timeZone: 'UTC',
  tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6, symbol: 'USDC' }],
  budgets: [{ chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '35000' }],
  rules: [
    { id: 'x402-merchant', effect: 'allow' as const, kinds: ['eip3009' as const], chains: { in: [CHAIN] }, payTo: { in: [merchant] }, hosts: { in: ['127.0.0.1'] }, maxValiditySeconds: 3600 },
  ],
}
const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy })
const keyFile = path.join(stack.dataDir, 'agent.key.json')
writeFileSync(keyFile, JSON.stringify(agentKey), { mode: 0o600 })
const exampleKeyFile = path.join(stack.dataDir, 'example-agent.key.json')
writeFileSync(exampleKeyFile, JSON.stringify((await setupAgent({ host: stack.url, owner, wallet, policy })).agentKey), { mode: 0o600 })

// Its own wallet and agent for the session tests (clients/python/tests/test_sessions.py), with room for their payments
// (signatures only, never settled), so the SDK tests' budget counts stay theirs.
const { wallet: sessionWallet } = await new OwnerClient(stack.url, owner).createWallet('python-sessions')
const sessionPolicy = { ...policy, budgets: [{ chainId: CHAIN, asset: token.address, perTx: '50000', rolling24h: '100000000' }] }
const sessionKeyFile = path.join(stack.dataDir, 'session-agent.key.json')
writeFileSync(sessionKeyFile, JSON.stringify((await setupAgent({ host: stack.url, owner, wallet: sessionWallet, policy: sessionPolicy })).agentKey), { mode: 0o600 })

const state = createServer((_req, res) => {
  const view = (a: typeof api) => ({ settlements: a.settlements.length, requests: a.requests })
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ api: view(api), pricey: view(pricey), exampleApi: view(exampleApi) }))
}).listen(0, '127.0.0.1')
await new Promise((r) => state.once('listening', r))

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  state.close()
  await Promise.allSettled([api.stop(), pricey.stop(), exampleApi.stop()])
  await stack.stop().catch(() => {})
  await anvil.stop().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()
process.stdout.write(
  `${JSON.stringify({
    host: stack.url,
    keyFile,
    wallet,
    merchant,
    token: token.address,
    rpcUrl: anvil.rpcUrl,
    api: api.url,
    pricey: pricey.url,
    exampleKeyFile,
    exampleApi: exampleApi.url,
    sessionKeyFile,
    sessionWallet,
    state: `http://127.0.0.1:${(state.address() as AddressInfo).port}`,
  })}\n`,
)
