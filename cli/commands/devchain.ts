import { existsSync } from 'node:fs'
import path from 'node:path'
import { Command, Option } from 'commander'
import { HOST_ENV } from '../lib/hostUrl.js'

type DevchainCliOptions = { dir: string; port: string; host?: string; chainPort: string; apiPort: string; keyFile?: string; json?: boolean }

const portOf = (name: string, v: string): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} ${v} is not a port number (0–65535)`)
  return n
}

/**
 * `bursar devchain`: keeps a local chain with USDC, a paid x402 API, bursar and a funded wallet running until Ctrl-C,
 * and writes a matching agent key, policy and pay.mjs (scripts/devchain/runDevchain.ts does the work).
 */
export function devchainCommand(): Command {
  return new Command('devchain')
    .description('keep a local chain with USDC, a paid x402 API, bursar and a funded wallet running; write a policy and an agent key')
    .option('--dir <dir>', 'where to write agent.key.json, policy.yaml, pay.mjs and devchain.json', '.bursar/devchain')
    .option('--port <n>', 'bursar host port (the make sim port; the data dir is make sim’s ./data)', '8402')
    .addOption(new Option('--host <url>', 'use this running bursar host instead of starting one').env(HOST_ENV))
    .option('--chain-port <n>', 'anvil JSON-RPC port', '8545')
    .option('--api-port <n>', 'paid x402 API port', '8404')
    .option('--key-file <file>', 'owner key file (default: BURSAR_OWNER_KEY or ~/.bursar/owner.key, created if missing)')
    .option('--json', 'print devchain.json to stdout once ready')
    .action(async (o: DevchainCliOptions) => {
      const fail = (msg: string) => {
        process.stderr.write(`bursar devchain: ${msg}\n`)
        process.exitCode = 2
      }
      const { loadDevTools } = await import('../lib/devTools.js')
      const dev = await loadDevTools('devchain', () => import('../../scripts/devchain/runDevchain.js'))
      if (!dev) return
      const { checkHostUrl } = await import('../lib/hostUrl.js')
      const { DEFAULT_OWNER_KEY_FILE, generateOwnerKeyFile, loadOwnerAccount } = await import('../lib/loadOwnerAccount.js')
      const { ensureLibrary } = await import('../../scripts/buildPackage.js')
      let ports: { port: number; chainPort: number; apiPort: number }
      try {
        ports = { port: portOf('--port', o.port), chainPort: portOf('--chain-port', o.chainPort), apiPort: portOf('--api-port', o.apiPort) }
      } catch (err) {
        return fail((err as Error).message)
      }
      let host: string | undefined
      if (o.host) {
        const checked = checkHostUrl(o.host)
        if (!checked.ok) return fail(checked.message)
        host = checked.url
      }
      const say = (line: string) => (o.json ? process.stderr : process.stdout).write(`${line}\n`)
      let owner: import('viem').LocalAccount
      let ownerKeySource: string
      const keyFile = o.keyFile ?? (process.env.BURSAR_OWNER_KEY ? undefined : DEFAULT_OWNER_KEY_FILE)
      if (keyFile && !existsSync(keyFile)) {
        owner = generateOwnerKeyFile(keyFile)
        ownerKeySource = `${keyFile} (created now; the owner CLI uses it by default)`
      } else {
        try {
          owner = loadOwnerAccount(o.keyFile)
        } catch (err) {
          return fail((err as Error).message)
        }
        ownerKeySource = keyFile ?? 'BURSAR_OWNER_KEY'
      }
      let dc: Awaited<ReturnType<typeof dev.startDevchain>>
      try {
        // pay.mjs imports `bursar/agent`: in a checkout that is dist/pkg, built from the sources when older.
        await ensureLibrary(() => say('▶ compiling bursar/agent (dist/pkg) for plain node …'))
        dc = await dev.startDevchain({ dir: o.dir, host, ...ports, owner, ownerKeySource, say })
      } catch (err) {
        if (err instanceof dev.DevchainError) return fail(err.message)
        throw err
      }
      const rel = (p: string) => path.relative(process.cwd(), p) || p
      const hostFlag = dc.host === 'http://127.0.0.1:8402' ? '' : ` --host ${dc.host}`
      say(`
bursar devchain is running (SIMULATION: local chain, simulated enclave; Ctrl-C stops everything)

  bursar host      ${dc.host}   (dashboard /, OpenAPI /docs)
  chain RPC        ${dc.rpcUrl}   (chain id ${dc.chainId}, USDC ${dc.usdc})
  paid API         ${dc.paidUrl}   ${dc.premiumUrl} (needs approval)
  owner            ${dc.owner}   key: ${ownerKeySource}
  wallet           ${dc.wallet}   (100 USDC)
  agent key        ${rel(dc.agentKeyFile)}
  policy           ${rel(dc.policyFile)}

Pay from your own script (another terminal):
  node ${rel(dc.payScript)}

  // or in yours:
  import { createPayingFetch, loadAgentKey } from 'bursar/agent'
  const pay = createPayingFetch({ agentKey: loadAgentKey('${rel(dc.agentKeyFile)}') })
  const res = await pay('${dc.paidUrl}')

As the owner:
  npx bursar owner wallet list${hostFlag}
  npx bursar owner pending list${hostFlag}          # e.g. after paying ${dc.premiumUrl}
  npx bursar audit query${hostFlag} --wallet ${dc.wallet}`)
      if (o.json) process.stdout.write(`${JSON.stringify({ ...dc, stop: undefined }, null, 2)}\n`)
      await new Promise<void>((resolve) => {
        const done = () => resolve()
        process.once('SIGINT', done)
        process.once('SIGTERM', done)
      })
      say('stopping …')
      await dc.stop()
      process.exit(0)
    })
}
