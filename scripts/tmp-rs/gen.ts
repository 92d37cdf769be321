import { buildTargets } from '../../test/fuzz/lib/targets.js'
import { regenerate } from '../../test/fuzz/lib/runTargets.js'
const targets = await buildTargets()
for (const name of ['message.schema', 'frame.body', 'attestation.parse']) {
  const t0 = performance.now(); let bytes = 0
  for (let i = 0; i < 300; i++) { const x = regenerate(targets, name, 1, i); bytes += x instanceof Uint8Array ? x.length : JSON.stringify(x)?.length ?? 0 }
  console.log(name, ((performance.now() - t0) / 300).toFixed(2), 'ms/input', Math.round(bytes / 300), 'bytes avg')
}
