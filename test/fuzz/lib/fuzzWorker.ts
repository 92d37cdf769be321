/**
 * One fuzzing shard in its own process (forked by runFuzz with tsx): runs the
 * in-process targets for inputs index % of === shard and reports progress and
 * figures over IPC.
 */
import { runTargets } from './runTargets.js'
import { buildTargets } from './targets.js'

const [seed, count, index, of, hangMs] = process.argv.slice(2).map(Number) as [number, number, number, number, number]
const targets = await buildTargets()
const result = await runTargets({
  seed,
  count,
  targets,
  shard: { index, of },
  hangMs,
  onProgress: (p) => process.send?.({ type: 'progress', ...p }),
})
process.send?.({ type: 'done', result }, () => process.exit(0))
