import { startStack as startAnyStack } from '../../scripts/lib/startStack.js'

export { type Stack, agentFloorWaitMs, lastListening, repoRoot, waitFor } from '../../scripts/lib/startStack.js'

/**
 * The tests' stacks (scripts/lib/startStack.ts) with the simulation's agent start floor at the enclave's start
 * (floor40b: agentFloor 'test', so a test's first agent request need not wait 2 s); the floor's own tests pass
 * `agentFloor: 'production'` (start + 2 s, as enclave/main.ts always has). BURSAR_TEST_AGENT_FLOOR=production runs
 * every test stack with the production floor (the suite as before floor40b: its A/B, or a check that no test needs the
 * test floor).
 */
export function startStack(opts: Parameters<typeof startAnyStack>[0] = {}): ReturnType<typeof startAnyStack> {
  return startAnyStack({ agentFloor: defaultAgentFloor(), ...opts })
}

/** The agent start floor a test's enclave gets unless the test asks for one (test/helpers/maliciousHost.ts too, suite41). */
export type AgentFloor = 'production' | 'test'
export function defaultAgentFloor(): AgentFloor {
  return process.env.BURSAR_TEST_AGENT_FLOOR === 'production' ? 'production' : 'test'
}
