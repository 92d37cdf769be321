import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { REQUEST_LINES_FLUSH_MS, batchedRequestLines } from './logging.js'

/** A pino logger over batchedRequestLines, its writes recorded (each element one write syscall's text). */
function logger() {
  const writes: string[] = []
  const stream = batchedRequestLines({ write: (s: string) => writes.push(s) })
  return { log: pino({ base: null, timestamp: false }, stream), writes, stream }
}
const msgs = (writes: string[]) => writes.join('').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)

describe('batchedRequestLines (issue 18, host37: request lines written together, everything else at once)', () => {
  it('holds info request lines and writes them in one write after the flush interval', async () => {
    const { log, writes } = logger()
    for (let i = 0; i < 20; i++) log.info({ route: '/v1/agent/sign', status: 200 }, 'request')
    expect(writes).toEqual([])
    await new Promise((r) => setTimeout(r, REQUEST_LINES_FLUSH_MS + 50))
    expect(writes).toHaveLength(1)
    expect(msgs(writes)).toEqual(Array(20).fill('request'))
  })

  it('writes any other line at once, after the request lines held before it (order kept)', () => {
    const { log, writes } = logger()
    log.info({ status: 200 }, 'request')
    log.info({ status: 200 }, 'request')
    log.info('enclave ready') // info, but not a request line
    expect(msgs(writes)).toEqual(['request', 'request', 'enclave ready'])
    log.info({ status: 200 }, 'request')
    log.warn({ status: 503 }, 'request') // a 503's request line is a warning: at once
    log.error('store damaged')
    expect(msgs(writes)).toEqual(['request', 'request', 'enclave ready', 'request', 'request', 'store damaged'])
  })

  it('writes at 64 K characters held without waiting for the timer, and on logger.flush', () => {
    const { log, writes, stream } = logger()
    const big = 'x'.repeat(1000)
    for (let i = 0; i < 70; i++) log.info({ big }, 'request')
    expect(writes.length).toBe(1)
    expect(writes[0]!.length).toBeGreaterThanOrEqual(64 * 1024)
    let called = false
    log.flush(() => (called = true))
    expect(called).toBe(true)
    expect(msgs(writes)).toHaveLength(70)
    stream.flush()
    expect(writes.length).toBe(2)
  })

  it('writes the held lines when the process exits (process.exit, as the host does on shutdown)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url))
    const script = `import pino from 'pino'; import { batchedRequestLines } from ${JSON.stringify(path.join(here, 'logging.ts'))};
      const log = pino({ base: null, timestamp: false }, batchedRequestLines(pino.destination({ dest: 2, sync: true })));
      log.info({ n: 1 }, 'request'); log.info({ n: 2 }, 'request'); process.exit(0)`
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: path.join(here, '..') })
    expect(r.status).toBe(0)
    expect(msgs([r.stderr])).toEqual(['request', 'request'])
  })
})
