import { Command, Option } from 'commander'
import { HOST_ENV, checkHostUrl, parseHostArg } from '../lib/hostUrl.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import type { Address } from 'viem'
import { loadAgentKey } from '../../agent/loadAgentKey.js'
import { BaseError } from '../../shared/errors/base.js'
import { createBursarMcpServer } from '../mcp/createBursarMcpServer.js'
import { serveMcpHttp } from '../mcp/serveMcpHttp.js'

type McpOptions = { key?: string; host?: string; wallet?: string; http?: boolean; port: string }

/**
 * `bursar mcp`: an MCP server (stdio by default, Streamable HTTP on loopback
 * with --http) whose tools let an agent framework pay x402 resources through
 * bursar with an agent key file. stdout carries only the protocol on stdio;
 * everything human goes to stderr.
 */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description('serve MCP tools (fetch_paid, quote, budget, request_approval, approval_status, payments) for an agent key')
    .option('--key <file>', 'agent key file (default: $BURSAR_AGENT_KEY)')
    .addOption(new Option('--host <url>', 'bursar host (default: $BURSAR_HOST_URL, else the key file’s host)').argParser(parseHostArg))
    .option('--wallet <address>', 'wallet (default: the key file’s wallet)')
    .option('--http', 'serve Streamable HTTP on 127.0.0.1 instead of stdio')
    .option('--port <n>', 'port for --http (0 = any free port)', '8403')
    .action(async (o: McpOptions) => {
      const fail = (msg: string) => {
        process.stderr.write(`bursar mcp: ${msg}\n`)
        process.exitCode = 2
      }
      const keyFile = o.key ?? process.env.BURSAR_AGENT_KEY
      if (!keyFile) return fail('no agent key: pass --key <file> or set BURSAR_AGENT_KEY (bursar owner agent add writes one)')
      let agentKey: ReturnType<typeof loadAgentKey>
      try {
        agentKey = loadAgentKey(keyFile)
      } catch (err) {
        return fail(`${err instanceof BaseError ? err.shortMessage : String(err)} — check the file or ask the owner for a new key`)
      }
      // BURSAR_HOST (the old name) is still read after BURSAR_HOST_URL, the one host variable of every command.
      const fromEnv = process.env[HOST_ENV] || process.env.BURSAR_HOST
      const checked = !o.host && fromEnv ? checkHostUrl(fromEnv) : undefined
      if (checked && !checked.ok) return fail(`${HOST_ENV}: ${checked.message}`)
      const host = o.host ?? (checked?.ok ? checked.url : undefined) ?? agentKey.host
      const wallet = (o.wallet ?? agentKey.wallet) as Address | undefined
      if (!host) return fail('no host: pass --host <url> or put "host" in the key file')
      if (!wallet || !/^0x[0-9a-fA-F]{40}$/.test(wallet)) return fail('no wallet: pass --wallet <address> or put "wallet" in the key file')
      const ctx = { host, agentKey, wallet }
      if (o.http) {
        const port = Number(o.port)
        if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port ${o.port} is not a port number`)
        const served = await serveMcpHttp(ctx, port)
        process.stderr.write(`bursar mcp: agent ${agentKey.agentId} on ${served.url} (Streamable HTTP, loopback)\n`)
        return
      }
      await createBursarMcpServer(ctx).connect(new StdioServerTransport())
      process.stderr.write(`bursar mcp: agent ${agentKey.agentId} on stdio (host ${host})\n`)
    })
}
