import { buildTargets } from '../../test/fuzz/lib/targets.js'
import { regenerate } from '../../test/fuzz/lib/runTargets.js'
import { decodeFrameBody } from '../../shared/protocol/frame.js'
import { RequestFrameSchema, ResponseFrameSchema } from '../../shared/protocol/messages.js'
const targets = await buildTargets()
const input = regenerate(targets, 'frame.body', 1, 1056) as Uint8Array
let t0 = performance.now(); const v = decodeFrameBody(input); console.log('decode', performance.now() - t0)
t0 = performance.now(); RequestFrameSchema.safeParse(v); console.log('req', performance.now() - t0)
t0 = performance.now(); ResponseFrameSchema.safeParse(v); console.log('res', performance.now() - t0)
