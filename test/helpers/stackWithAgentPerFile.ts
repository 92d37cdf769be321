import { afterAll, beforeAll } from 'vitest'
import { type PolicyBody, type StackWithAgent, stackWithAgent, waitAgentFloor } from './agentClient.js'
import type { startStack } from './startStack.js'

/** stackWithAgent's stack options, plus `floorMs`: what waitAgentFloor waits (its default 2,100 ms unless given). */
export type PerFileOptions = NonNullable<Parameters<typeof startStack>[0]> & { floorMs?: number }

/**
 * stackWithAgent for a whole test file: beforeAll starts the stack with one wallet and one agent under `policy`, then
 * waits the agent floor (waitAgentFloor(floorMs)); afterAll stops it. Read `s.stack`, `s.wallet`, `s.agentKey`… inside
 * the tests and in hooks registered after this call (their beforeAll runs after its, their afterAll before its stop).
 * `opts` as a function is read in the hook: for options made by an earlier hook (a data dir, a KMS endpoint).
 */
export function stackWithAgentPerFile(policy: PolicyBody, opts: PerFileOptions | (() => PerFileOptions) = {}): StackWithAgent {
  const s = {} as StackWithAgent
  beforeAll(async () => {
    const { floorMs, ...stackOpts } = typeof opts === 'function' ? opts() : opts
    Object.assign(s, await stackWithAgent(policy, stackOpts))
    await waitAgentFloor(floorMs)
  })
  afterAll(async () => {
    await s.stack?.stop()
  })
  return s
}
