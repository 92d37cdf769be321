/**
 * Child-process entry of the SDK bench (forked by benchSdk with tsx): one
 * agent process that runs runSdkPairs for each 'run' message over IPC, so
 * its process.cpuUsage() is the agent's alone (host, enclave and the x402
 * resource server are other processes).
 */
import { type RunSdkPairsParameters, runSdkPairs } from './runSdkPairs.js'

type Message = { type: 'run'; params: RunSdkPairsParameters }

process.on('message', (m: Message) => {
  if (m?.type !== 'run') return
  runSdkPairs(m.params).then(
    (result) => process.send!({ type: 'result', result }),
    (err: Error) => process.send!({ type: 'error', message: err.stack ?? err.message }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
