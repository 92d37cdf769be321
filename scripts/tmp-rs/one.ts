import { buildTargets } from '../../test/fuzz/lib/targets.js'
import { regenerate } from '../../test/fuzz/lib/runTargets.js'
import { makeRng } from '../../test/fuzz/lib/mutate.js'
const targets = await buildTargets()
const [name, seed, index] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])]
const input = regenerate(targets, name, seed, index) as Uint8Array
console.log(input.length, Buffer.from(input.subarray(0, 64)).toString('hex'))
const t0 = performance.now()
try { await targets.find((t) => t.name === name)!.run(input, makeRng(seed, 99, index)) } catch (e) { console.log('threw', e) }
console.log('ms', performance.now() - t0, Math.round(process.memoryUsage().rss / 1e6))
