import net from 'node:net'

export type CutProxy = {
  url: string
  /** Connections accepted so far. */
  connections: number
  /** Requests whose answer was cut (the upstream answered; the agent's connection was destroyed instead). */
  cut: number
  /** Everything each connection sent upstream, as text (one string per connection). */
  received: string[]
  /** Cut the answer of the next `n` connections. */
  cutNext(n: number): void
  close(): Promise<void>
}

/**
 * A loopback TCP proxy in front of a host that can drop answers: the request reaches the host whole, and when the
 * host's answer starts to arrive the agent's connection is destroyed instead (a network that lost the answer).
 * `path`: cut only answers to requests for that route (e.g. the sign route, not the SDK's session open).
 */
export async function cutProxy(upstream: string, opts: { path?: string } = {}): Promise<CutProxy> {
  const target = new URL(upstream)
  let toCut = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    proxy.connections++
    let cutThis = !opts.path && toCut > 0
    if (cutThis) toCut--
    const up = net.connect(Number(target.port), target.hostname)
    sockets.add(client).add(up)
    client.on('close', () => sockets.delete(client))
    up.on('close', () => sockets.delete(up))
    client.on('error', () => up.destroy())
    up.on('error', () => client.destroy())
    const idx = proxy.received.push('') - 1
    client.on('data', (d) => {
      if (opts.path && !cutThis && toCut > 0 && d.toString('latin1').startsWith(`POST ${opts.path} `)) {
        cutThis = true
        toCut--
      }
      proxy.received[idx] += d.toString('utf8')
      up.write(d)
    })
    client.on('end', () => up.end())
    up.on('data', (d) => {
      if (cutThis) {
        proxy.cut++
        client.destroy()
        up.destroy()
        return
      }
      client.write(d)
    })
    up.on('end', () => client.end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  const proxy: CutProxy = {
    url: `http://127.0.0.1:${port}`,
    connections: 0,
    cut: 0,
    received: [],
    cutNext(n) {
      toCut = n
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
  return proxy
}
