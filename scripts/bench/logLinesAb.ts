/**
 * Issue 18 (host37): the host's CPU per request line at the default log level (info), pino's synchronous destination
 * (one write syscall per line, as before) vs batchedRequestLines (lines of a flush interval in one write), interleaved
 * rounds, the destination a pipe drained by another process (as stderr under systemd or a container runtime), a child
 * logger and a request line per request as fastify makes them, an event-loop turn every 16 lines.
 *
 *   npx tsx scripts/bench/logLinesAb.ts [lines=20000] [rounds=8]
 */
import { spawn } from 'node:child_process'
import pino from 'pino'
import { batchedRequestLines } from '../../host/logging.js'
const reader = spawn('sh', ['-c', 'cat > /dev/null'], { stdio: ['pipe', 'inherit', 'inherit'] })
const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd
const mk = (batched: boolean) => {
  const dest = pino.destination({ dest: fd, sync: true })
  return pino({ level: 'info', base: { service: 'bursar-host' }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: ['req.headers.authorization', '*.signature', '*.request'], censor: '[redacted]' } }, batched ? batchedRequestLines(dest) : dest)
}
const loggers = { sync: mk(false), batched: mk(true) }
const N = Number(process.argv[2] ?? 20000)
const res: Record<string, number[]> = { sync: [], batched: [] }
for (let r = 0; r < Number(process.argv[3] ?? 8); r++) {
  const order: Array<'sync' | 'batched'> = r % 2 ? ['batched', 'sync'] : ['sync', 'batched']
  for (const k of order) {
    const log = loggers[k]
    const t0 = process.cpuUsage()
    for (let i = 0; i < N; i++) {
      const child = log.child({ reqId: 'a1b2c3d4-0000-4000-8000-00000000000' + (i % 10) })
      child.info({ method: 'POST', route: '/v1/agent/sign', path: '/v1/agent/sign', status: 200, ms: 1.23 }, 'request')
      if (i % 16 === 15) await new Promise((r) => setImmediate(r)) // a turn every 16 lines (a c = 64 group commit)
    }
    ;(log as unknown as { flush(): void }).flush()
    const d = process.cpuUsage(t0)
    res[k]!.push((d.user + d.system) / N)
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const k of ['sync', 'batched']) console.log(k, 'µs per line: median', med(res[k]!).toFixed(2), 'rounds', res[k]!.map((x) => x.toFixed(2)).join(' '))
const ratios = res.batched!.map((b, i) => b / res.sync![i]!)
console.log('batched ÷ sync per round:', ratios.map((x) => x.toFixed(2)).join(' '), 'median', med(ratios).toFixed(2))
reader.stdin!.end()
