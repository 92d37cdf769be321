import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { McpContext } from './McpContext.js'
import { createBursarMcpServer } from './createBursarMcpServer.js'

export type ServeMcpHttpReturnType = { url: string; server: Server; close: () => Promise<void> }

/**
 * `bursar mcp --http`: the same tools over MCP Streamable HTTP at `/mcp`, on
 * loopback only (stateless: one server per request), with DNS-rebinding
 * protection so a web page cannot drive the agent's wallet through it.
 */
export async function serveMcpHttp(ctx: McpContext, port: number): Promise<ServeMcpHttpReturnType> {
  const http = createServer(async (req, res) => {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found: use /mcp"}')
      return
    }
    const addr = http.address() as AddressInfo
    const server = createBursarMcpServer(ctx)
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableDnsRebindingProtection: true,
      allowedHosts: [`127.0.0.1:${addr.port}`, `localhost:${addr.port}`],
    })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    try {
      await server.connect(transport)
      await transport.handleRequest(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}')
    }
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => resolve())
  })
  const { port: bound } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    server: http,
    close: () => new Promise((r) => http.close(() => r())),
  }
}
