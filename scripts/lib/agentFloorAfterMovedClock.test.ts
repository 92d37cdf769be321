import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MaliciousHost } from '../../test/helpers/maliciousHost.js'
import { agentFloorWaitMs, lastListening, listened } from './startStack.js'

/**
 * hang41: waitAgentFloor's wait (agentFloorWaitMs) after a file moved this process's Date.now (test/helpers/simClock.ts,
 * 300 s for a time lock) and restarted an enclave there. The floor was dated on Date.now and kept by a max, so once the
 * file restored the clock, every later file in the same worker process waited out the offset: 10–13 adversarial
 * set-ups hit "Hook timed out in 60000ms" in a whole-project run. Both clocks are pinned here, so the figures are exact.
 */
describe('agentFloorAfterMovedClock: the agent floor wait ignores a moved Date.now', () => {
  const saved = { ...lastListening }
  const mono = 1_000_000
  beforeEach(() => {
    Object.assign(lastListening, { at: 0, floorAt: 0 })
    vi.spyOn(performance, 'now').mockReturnValue(mono)
  })
  afterEach(() => {
    vi.restoreAllMocks()
    Object.assign(lastListening, saved)
  })

  it('an enclave restarted while Date.now ran 300 s ahead: the next stack waits its own floor, not the offset', () => {
    const wall = Date.now.bind(Date)
    const moved = vi.spyOn(Date, 'now').mockImplementation(() => wall() + 300_000)
    listened(0) // the simClock file's enclave restart
    moved.mockRestore() // its afterAll: clock.restore()
    listened(0) // the next file's stack (test floor)
    expect(agentFloorWaitMs(2_100)).toBe(100)
    expect(agentFloorWaitMs(2_600)).toBe(600)
  })

  it('the production floor (and a cluster) still waits 2 s after its listen; nothing listened: the whole wait', () => {
    expect(agentFloorWaitMs(2_100)).toBe(2_100)
    listened(0)
    listened(2_000)
    expect(agentFloorWaitMs(2_100)).toBe(2_100)
    vi.mocked(performance.now).mockReturnValue(mono + 2_100)
    expect(agentFloorWaitMs(2_100)).toBe(0)
  })

  it("MaliciousHost's waitAgentFloor likewise (tidy42): its enclave listened while Date.now ran 300 s ahead, the clock went back, it waits its floor only", () => {
    const host = new MaliciousHost()
    const wall = Date.now.bind(Date)
    const moved = vi.spyOn(Date, 'now').mockImplementation(() => wall() + 300_000)
    host.listening() // startEnclave, once the enclave says it listens
    moved.mockRestore()
    host.agentFloor = 'test'
    expect(host.agentFloorWaitMs()).toBe(300)
    host.agentFloor = 'production'
    expect(host.agentFloorWaitMs()).toBe(2_300)
    vi.mocked(performance.now).mockReturnValue(mono + 2_300)
    expect(host.agentFloorWaitMs()).toBe(0)
  })
})
