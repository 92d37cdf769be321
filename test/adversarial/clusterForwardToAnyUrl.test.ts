import { type Server, createServer } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import { freshDatabase, releasePostgres } from '../helpers/postgres.js'

/**
 * Attack (stranger, scale-out mode): a standby host forwards every request to the lease holder by resolving the
 * request target against the holder's URL (`new URL(req.url, holder)`). A request target in absolute form
 * (`GET http://169.254.169.254/latest/meta-data/ HTTP/1.1`, which HTTP/1.1 servers must accept) or a
 * scheme-relative path (`GET //10.0.0.5:8080/admin`) replaces the holder's origin: the standby connects wherever
 * the stranger says, inside its own network, and streams the answer back (full-read SSRF: cloud credentials from
 * the metadata endpoint, internal admin APIs), carrying the caller's headers.
 *
 * Fix: the standby forwards only the path and query of an origin-form target to the holder's host and port;
 * anything else is refused before any connection.
 */
describe('cluster forwarding: a request target that names another host', () => {
  let cluster: Cluster
  let internal: Server
  let internalPort = 0
  const hits: string[] = []
  beforeAll(async () => {
    internal = createServer((req, res) => {
      hits.push(req.url ?? '')
      res.writeHead(200, { 'content-type': 'text/plain' }).end('INTERNAL-SECRET')
    })
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r))
    internalPort = (internal.address() as AddressInfo).port
    cluster = await startCluster({ databaseUrl: await freshDatabase(), pairs: 2 })
    await cluster.waitReady()
  }, 120_000)
  afterAll(async () => {
    await cluster?.stop()
    await new Promise((r) => internal?.close(r))
    releasePostgres()
  })

  /** One raw HTTP/1.1 request (fetch cannot send these targets); the whole answer as text. */
  const raw = (port: number, target: string) =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1')
      let out = ''
      s.on('data', (d) => (out += d.toString()))
      s.on('end', () => resolve(out))
      s.on('error', () => resolve(out))
      s.setTimeout(5_000, () => s.destroy())
      s.on('close', () => resolve(out))
      s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
    })

  it('never connects to the named host and returns nothing from it', async () => {
    const holder = (await cluster.holder())!
    const standby = cluster.pairs.find((p) => p !== holder.pair)!
    for (const target of [`http://127.0.0.1:${internalPort}/latest/meta-data/`, `//127.0.0.1:${internalPort}/admin`, `http://127.0.0.1:${internalPort}/v1/audit/head`]) {
      const answer = await raw(standby.port, target)
      expect(answer, target).not.toContain('INTERNAL-SECRET')
    }
    expect(hits).toEqual([])
    // Control: ordinary requests are still forwarded to the holder.
    const head = await fetch(`${standby.url}/v1/audit/head`)
    expect(head.status).toBe(200)
  }, 60_000)
})
