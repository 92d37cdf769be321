/**
 * Issue 18 (host40): A/B of the HOST's per-payment path IN ONE PROCESS, whole builds side by side. Each argument is a
 * checkout; its own host modules are imported (EnclaveClient, EnclaveGateway, SqliteStore with its WAL checkpointer
 * worker, AgentSignOnce, the route's answerText and fetch mark), each with its own store file and its own unix socket
 * to a stand-in enclave: a child process that answers every request frame with the real response frame this
 * checkout's enclave gave for that request (recorded first, in process, at 64 in flight). So per payment: the request
 * frame's encode and corked write, the answer frame's read, decode and exact checks, withAuditEntry, the answer text,
 * the group commit (entries, checkpoint, answer row, the previous commit's fetch marks), the release; not fastify/HTTP.
 * The stand-in's CPU is in its own process; this process's CPU (every thread: GC helpers, the checkpointer) is
 * counted. Batches alternate between the builds in rotating order, both fed the same requests, so load from other
 * processes falls on both alike.
 *
 *   npx tsx scripts/bench/hostPathAb.ts ROUNDS BATCH dirA dirB ...   (HOSTPATH_C=64: requests in flight)
 */
import { fork } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'

type Any = any // eslint-disable-line @typescript-eslint/no-explicit-any
type Pair = { request: string; signature: string; wire: Buffer }

if (process.argv[2] === '--serve') await serve(process.argv[3]!, process.argv.slice(4))
else await main()

/** The stand-in enclave: each request frame is answered with the recorded response for its request text. */
async function serve(file: string, sockets: string[]) {
  const { decodeFrameBody, encodeFrame } = (await import('../../shared/protocol/frame.js')) as Any
  const { FrameReader } = (await import('../../shared/protocol/FrameReader.js')) as Any
  const byRequest = new Map<string, Any>()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    const { request, wire } = JSON.parse(line) as { request: string; wire: string }
    byRequest.set(request, decodeFrameBody(Buffer.from(wire, 'base64')))
  }
  for (const p of sockets)
    net
      .createServer((s) => {
        const reader = new FrameReader()
        s.on('data', (chunk: Buffer) => {
          const out: Buffer[] = []
          for (const body of reader.push(chunk) as Buffer[]) {
            const f = decodeFrameBody(body) as { id: number; msg: { request: string } }
            const r = byRequest.get(f.msg.request)
            if (!r) throw new Error(`no recorded answer for a ${JSON.stringify(f.msg).slice(0, 60)} frame`)
            out.push(encodeFrame({ ...r, id: f.id }))
          }
          if (out.length) s.write(Buffer.concat(out))
        })
        s.on('error', () => {})
      })
      .listen(p)
  process.send!('listening')
}

async function main() {
  const [rounds, batch, ...dirs] = [Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 1000), ...process.argv.slice(4)]
  const C = Number(process.env.HOSTPATH_C ?? 64)
  const tmp = mkdtempSync(path.join(tmpdir(), 'bursar-hostpath-'))
  const { setup } = (await import('./hotPathAb.js')) as Any
  const enclave = await setup('.')
  const pairs = (await enclave.collect((rounds + 1) * batch)) as Pair[]
  const file = path.join(tmp, 'answers.jsonl')
  writeFileSync(file, pairs.map((p) => JSON.stringify({ request: p.request, wire: p.wire.toString('base64') })).join('\n'))
  const sockets = dirs.map((_, k) => path.join(tmp, `enclave-${k}.sock`))
  const child = fork(new URL(import.meta.url).pathname, ['--serve', file, ...sockets], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  await new Promise((r) => child.once('message', r))

  const builds = await Promise.all(
    dirs.map(async (dir, k) => {
      const m = async (rel: string): Promise<Any> => import(path.join(path.resolve(dir), rel))
      const [{ EnclaveGateway, answerText }, { SqliteStore }, { AgentSignOnce }] = await Promise.all(['host/enclave/EnclaveGateway.ts', 'host/storage/SqliteStore.ts', 'host/routes/agentSignOnce.ts'].map(m))
      const store = new SqliteStore(path.join(tmp, `store-${k}`, 'bursar.db'))
      const gw = new EnclaveGateway({ kind: 'unix', path: sockets[k]! }, store, () => {})
      gw.client.removeAllListeners('connected') // no bootstrap: the stand-in answers agentSign only
      await gw.client.start()
      // startedAt 0: every request is issued after "start" (no store lookup first), as on the bench's fresh host.
      const once = new AgentSignOnce(gw, store, 0)
      /** Requests [from, to) at C in flight, as the route runs them; CPU µs per request. */
      return async (from: number, to: number): Promise<number> => {
        let next = from
        const c0 = process.cpuUsage()
        const worker = async () => {
          while (next < to) {
            const p = pairs[next++]!
            const answer = await once.sign({ request: p.request, signature: p.signature })
            if (answer.status !== 200 || !answer.stored) throw new Error(`${dir}: answer ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`)
            if (typeof answerText(answer.body) !== 'string') throw new Error(`${dir}: no stored answer text`)
            void store.markAnswersFetched([answer.stored], Date.now())
          }
        }
        await Promise.all(Array.from({ length: C }, worker))
        const c = process.cpuUsage(c0)
        return (c.user + c.system) / (to - from)
      }
    }),
  )
  for (const b of builds) await b(0, batch) // warm-up
  const res: number[][] = dirs.map(() => [])
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < dirs.length; i++) {
      const k = (i + round) % dirs.length
      const from = (round + 1) * batch
      res[k]!.push(await builds[k]!(from, from + batch))
    }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  console.log(`load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} rounds of ${batch} at ${C} in flight`)
  dirs.forEach((d, k) => console.log(`${d}: median ${med(res[k]!).toFixed(1)} µs CPU per request (${res[k]!.map((x) => x.toFixed(0)).join(' ')})`))
  const base = med(res[0]!)
  dirs.slice(1).forEach((d, k) => {
    const ratios = res[k + 1]!.map((x, i) => x / res[0]![i]!)
    const sorted = [...ratios].sort((a, b) => a - b)
    console.log(`${d} ÷ ${dirs[0]}: median ${med(ratios).toFixed(3)} (min ${sorted[0]!.toFixed(3)}, max ${sorted.at(-1)!.toFixed(3)}; pairs ${ratios.map((x) => x.toFixed(2)).join(' ')}); Δ ${(med(res[k + 1]!) - base).toFixed(1)} µs`)
  })
  child.kill()
  process.exit(0)
}
