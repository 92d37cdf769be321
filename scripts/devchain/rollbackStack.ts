// A stack the Python SDK's rollback test drives (clients/python/tests/test_host_restores_older_store.py): a real host +
// simulated enclave, one wallet and agent (key file with the owner client's receipt key). Prints one JSON line, then
// reads commands on stdin: `copy` (stop the pair, copy its store aside, start it again), `restore` (stop it, put the
// copy back — a host restoring an older store — start it again); answers `ok` per command. Ends when stdin closes.
import { cpSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { startStack } from '../lib/startStack.js'
import { setupAgent } from './setupAgent.js'

const CHAIN = 84532
const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const stack = await startStack()
const owner = privateKeyToAccount(generatePrivateKey())
const { wallet } = await new OwnerClient(stack.url, owner).createWallet('python-rollback')
const policy = {
  version: 1,
  timeZone: 'UTC',
  tokens: [{ chainId: CHAIN, asset: TOKEN, name: 'USD Coin', version: '2', decimals: 6 }],
  budgets: [{ chainId: CHAIN, asset: TOKEN, perTx: '50000', rolling24h: '100000000' }],
  rules: [{ id: 'pay', effect: 'allow' as const, kinds: ['eip3009' as const], chains: { in: [CHAIN] }, maxValiditySeconds: 3600 }],
}
const { agentKey } = await setupAgent({ host: stack.url, owner, wallet, policy })
const keyFile = path.join(stack.dataDir, '..', `${path.basename(stack.dataDir)}-agent.key.json`)
writeFileSync(keyFile, JSON.stringify(agentKey), { mode: 0o600 })
const copy = `${stack.dataDir}-older`
const restart = async (between: () => void) => {
  await stack.stopHost()
  await stack.stopEnclave()
  between()
  await stack.startEnclave()
  await stack.startHost()
  await stack.waitReady()
}
const done = async () => {
  await stack.stop().catch(() => {})
  rmSync(copy, { recursive: true, force: true })
  rmSync(keyFile, { force: true })
  process.exit(0)
}
process.on('SIGTERM', done)
process.stdout.write(`${JSON.stringify({ host: stack.url, keyFile, wallet, token: TOKEN, chainId: CHAIN })}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'copy') await restart(() => cpSync(stack.dataDir, copy, { recursive: true }))
  else if (line === 'restore')
    await restart(() => {
      rmSync(stack.dataDir, { recursive: true, force: true })
      cpSync(copy, stack.dataDir, { recursive: true })
    })
  process.stdout.write('ok\n')
}
await done()
