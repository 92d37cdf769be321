/**
 * Child-process entry of the load generator (forked by LoadGenerator with
 * tsx): runs runLoad for each 'run' message from the parent over IPC, so the
 * client side of the bench never shares an event loop with anything else.
 */
import { type RunLoadParameters, runLoad } from './runLoad.js'

type Message = { type: 'run'; id: number; params: RunLoadParameters }

process.on('message', (m: Message) => {
  if (m?.type !== 'run') return
  runLoad(m.params).then(
    (result) => process.send!({ type: 'result', id: m.id, result }),
    (err: Error) => process.send!({ type: 'error', id: m.id, message: err.stack ?? err.message }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
