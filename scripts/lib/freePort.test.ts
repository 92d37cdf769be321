import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, isAddrInUse, withFreePort } from './freePort.js'
import { type Stack, startStack } from './startStack.js'

/** A port another process "took" between the pick and the bind: a loopback server holding it. */
async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) }
}

const listenOn = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(s))
  })

describe('withFreePort: a port taken between the pick and the bind is retried on another', () => {
  const held: Array<{ close(): Promise<void> }> = []
  const stacks: Stack[] = []
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stop()))
    await Promise.all(held.map((h) => h.close()))
  })

  it('binds on the second pick when the first port is taken (EADDRINUSE), and only then', async () => {
    const taken = await holdPort()
    held.push(taken)
    const picks = [taken.port]
    const tried: number[] = []
    const srv = await withFreePort(
      (port) => {
        tried.push(port)
        return listenOn(port)
      },
      { pick: async () => picks.shift() ?? freePort() },
    )
    held.push({ close: () => new Promise((r) => srv.close(() => r())) })
    expect(tried).toHaveLength(2)
    expect(tried[0]).toBe(taken.port)
    expect((srv.address() as net.AddressInfo).port).toBe(tried[1])
  })

  it('does not retry other errors, and gives up after `attempts`', async () => {
    let calls = 0
    await expect(withFreePort(async () => (calls++, Promise.reject(new Error('boom'))))).rejects.toThrow('boom')
    expect(calls).toBe(1)
    const taken = await holdPort()
    held.push(taken)
    calls = 0
    await expect(withFreePort((port) => (calls++, listenOn(port)), { attempts: 3, pick: async () => taken.port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(calls).toBe(3)
  })

  it('recognises EADDRINUSE in a message, a code or a cause', () => {
    expect(isAddrInUse(Object.assign(new Error('x'), { code: 'EADDRINUSE' }))).toBe(true)
    expect(isAddrInUse(new Error('timed out\nError: listen EADDRINUSE: address already in use 127.0.0.1:1'))).toBe(true)
    expect(isAddrInUse(new Error('outer', { cause: new Error('address already in use') }))).toBe(true)
    expect(isAddrInUse(new Error('ECONNREFUSED'))).toBe(false)
  })

  it('an enclave told a taken tcp port fails its stack at once, and the retry starts it on another', async () => {
    const taken = await holdPort()
    held.push(taken)
    const picks = [taken.port]
    const tried: number[] = []
    const failures: string[] = []
    const stack = await withFreePort(
      (port) => {
        tried.push(port)
        return startStack({ env: { BURSAR_ENCLAVE_LISTEN: `tcp:127.0.0.1:${port}`, BURSAR_ENCLAVE: `tcp:127.0.0.1:${port}` } }).catch((err: Error) => {
          failures.push(err.message)
          throw err
        })
      },
      { pick: async () => picks.shift() ?? freePort() },
    )
    stacks.push(stack)
    expect(tried).toHaveLength(2)
    expect(tried[0]).toBe(taken.port)
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200)
    // Fail-fast: the first enclave exited on EADDRINUSE and was not waited on for the 20 s listening timeout. suite40:
    // shown by how the first start failed (its exit seen), not by the wall time (was < 15 s, on a loaded CI box).
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(/^the enclave exited before listening/)
    expect(failures[0]).toContain('EADDRINUSE')
    expect(failures[0]).not.toMatch(/timed out/)
  })
})
