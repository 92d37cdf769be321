/**
 * Ports for child processes that must be told theirs in advance. A port picked by binding 0 and closing is only
 * probably free: until the child binds it, another test file (two run at a time), or any outgoing connection's
 * ephemeral port, can take it. So a start-up that fails with EADDRINUSE is retried on a fresh port. Where the server
 * is ours, bind port 0 and read the bound port instead (no race at all).
 */
import net from 'node:net'

/** A loopback port free right now (bound and released: the caller's child binds it again soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

/** Whether an error (its message, stack or cause: start-up errors carry the child's log tail) is a port taken. */
export function isAddrInUse(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? `${e.message}\n${e.stack ?? ''}\n${(e as { code?: string }).code ?? ''}` : String(e)
    if (/EADDRINUSE|address already in use/i.test(text)) return true
  }
  return false
}

/**
 * Runs `start` with a free port; if it fails because the port was taken meanwhile (EADDRINUSE), again with another,
 * up to `attempts` times. `start` must clean up after its own failure (stop what it spawned).
 */
export async function withFreePort<T>(start: (port: number) => Promise<T>, opts: { attempts?: number; pick?: () => Promise<number> } = {}): Promise<T> {
  const attempts = opts.attempts ?? 5
  for (let i = 1; ; i++) {
    const port = await (opts.pick ?? freePort)()
    try {
      return await start(port)
    } catch (err) {
      if (i >= attempts || !isAddrInUse(err)) throw err
    }
  }
}
