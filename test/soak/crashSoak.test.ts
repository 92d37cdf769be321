import { describe, expect, it } from 'vitest'
import { runSoak } from './runSoak.js'

/**
 * The short crash soak (the full one is `make soak`): real host + simulated
 * enclave under steady payments, SIGKILLed at random points; every signature
 * an agent received is on the stored ledger and audit log exactly once, the
 * chain verifies under the sealed receipt key, the budget is exact to the unit.
 */
describe('crash soak (short): SIGKILL of the enclave / of both under steady payments', () => {
  it('loses and duplicates nothing over 3 kill cycles; chain verifies; budget exact', async () => {
    const f = await runSoak({ cycles: 3, seed: Number(process.env.SEED ?? 7), targets: ['enclave', 'both'], trafficMs: [200, 700] })
    expect(f.failures).toEqual([])
    expect(f).toMatchObject({ cycles: 3, lost: 0, duplicated: 0, chainVerified: true, budgetExact: true })
    expect(f.signatures).toBeGreaterThan(20)
  }, 120_000)
})
