import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { type Chain, type Hex, defineChain } from 'viem'

/**
 * Dev-chain fixture (NOT part of the trusted code): a real anvil process on
 * loopback, used by tests and by `bursar demo`. Block timestamps follow wall
 * time (anvil's default, never warped here) because x402 and FiatToken compare
 * validAfter/validBefore with the clock.
 */
export type StartAnvilParameters = {
  /** Default 84532 (Base Sepolia), so x402's `eip155:84532` is the local chain. */
  chainId?: number | undefined
  /** Default: a free port chosen by anvil. */
  port?: number | undefined
  /** Milliseconds to wait for the RPC to answer; default 15 000. */
  timeoutMs?: number | undefined
}

export type StartAnvilReturnType = {
  rpcUrl: string
  chain: Chain
  /** Anvil's default funded accounts (10 000 ETH each), as private keys. */
  accounts: Hex[]
  /** The anvil process id. */
  pid: number
  stop: () => Promise<void>
}

/** Path of the anvil binary shipped inside `@foundry-rs/anvil-linux-amd64` (spawned directly, not the wrapper). */
function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve('@foundry-rs/anvil-linux-amd64/package.json')
  const bin = join(dirname(pkg), 'bin', 'anvil')
  if (!existsSync(bin)) throw new Error(`anvil binary missing at ${bin}`)
  return bin
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Covers normal exits and uncaught exceptions; `setpriv --pdeathsig` below
  // covers a parent killed by a signal (e.g. a vitest worker torn down).
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

/** Spawns anvil on 127.0.0.1, waits until its JSON-RPC answers, and returns a handle whose `stop()` kills it. */
export async function startAnvil(params: StartAnvilParameters = {}): Promise<StartAnvilReturnType> {
  const chainId = params.chainId ?? 84532
  const timeoutMs = params.timeoutMs ?? 15_000
  const args = ['--host', '127.0.0.1', '--port', String(params.port ?? 0), '--chain-id', String(chainId)]
  const bin = anvilBinaryPath()
  const useSetpriv = existsSync('/usr/bin/setpriv')
  const child = useSetpriv
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  installExitHook()
  live.add(child)

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  const stop = async (): Promise<void> => {
    live.delete(child)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
      await exited
      clearTimeout(timer)
    }
  }

  try {
    const { port, keys } = await readBanner(child, timeoutMs)
    const rpcUrl = `http://127.0.0.1:${port}`
    await waitForRpc(rpcUrl, chainId, timeoutMs)
    const chain = defineChain({
      id: chainId,
      name: `anvil-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    })
    return { rpcUrl, chain, accounts: keys, pid: child.pid ?? -1, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Reads anvil's startup banner until "Listening on", collecting the default private keys. */
function readBanner(child: ChildProcess, timeoutMs: number): Promise<{ port: number; keys: Hex[] }> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => done(new Error(`anvil did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (!m) return
      const section = out.split('Private Keys')[1] ?? ''
      const keys = [...section.matchAll(/\(\d+\) (0x[0-9a-fA-F]{64})/g)].map((k) => k[1] as Hex)
      done(undefined, { port: Number(m[1]), keys })
    }
    const onExit = (code: number | null) => done(new Error(`anvil exited early (code ${code}):\n${out}`))
    const done = (err: Error | undefined, value?: { port: number; keys: Hex[] }) => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      // Keep draining output so a full pipe never blocks anvil.
      child.stdout?.resume()
      child.stderr?.resume()
      if (err) reject(err)
      else if (value) resolve(value)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString('utf8')
    })
    child.once('exit', onExit)
  })
}

async function waitForRpc(rpcUrl: string, chainId: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      const body = (await res.json()) as { result?: string }
      if (body.result !== undefined && Number(body.result) === chainId) return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`anvil RPC at ${rpcUrl} not ready within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
