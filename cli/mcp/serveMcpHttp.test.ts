import { request } from 'node:http'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { type ServeMcpHttpReturnType, serveMcpHttp } from './serveMcpHttp.js'

describe('bursar mcp --http (Streamable HTTP on loopback)', () => {
  let served: ServeMcpHttpReturnType
  const wallet = '0x000000000000000000000000000000000000dEaD'
  beforeAll(async () => {
    const agentKey = generateAgentKey({ wallet })
    // A host nobody listens on: tools must answer with a refusal result, not fail the transport.
    served = await serveMcpHttp({ host: 'http://127.0.0.1:9', agentKey, wallet }, 0)
  })
  afterAll(() => served?.close())

  it('serves the tools; an unreachable bursar host is a refusal result with a code', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    const client = new Client({ name: 't', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(served.url)))
    const { tools } = await client.listTools()
    expect(tools.length).toBe(6)
    const r = (await client.callTool({ name: 'budget', arguments: {} })) as { isError?: boolean; structuredContent?: { code?: string } }
    expect(r.isError).toBe(true)
    expect(r.structuredContent?.code).toBe('enclave_unavailable')
    await client.close()
  })

  it('refuses a request whose Host is not loopback (DNS rebinding from a web page)', async () => {
    const u = new URL(served.url)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: u.port,
          path: '/mcp',
          method: 'POST',
          headers: { host: `evil.example:${u.port}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))
    })
    expect(status).toBe(403)
  })
})
