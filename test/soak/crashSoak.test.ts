import { describe, expect, it } from 'vitest'
import { runSoak } from './runSoak.js'

/**
 * The short crash soak (the full one is `make soak`): real host + simulated
 * enclave under steady payments, SIGKILLed at random points; every signature
 * an agent received is on the stored ledger and audit log exactly once, the
 * chain verifies under the sealed receipt key, the budget is exact to the unit.
 */
describe('crash soak (short): SIGKILL of the host / the enclave / both under steady payments', () => {
  it('loses and duplicates nothing over 4 kill cycles (host kills then an enclave restart: F1); chain verifies; budget exact', async () => {
    const f = await runSoak({ cycles: 4, seed: Number(process.env.SEED ?? 7), targets: ['host', 'enclave', 'both'], schedule: ['host', 'host', 'enclave', 'both'], trafficMs: [200, 700] })
    expect(f.failures).toEqual([])
    expect(f).toMatchObject({ cycles: 4, lost: 0, duplicated: 0, chainVerified: true, budgetExact: true })
    expect(f.kills).toEqual({ host: 2, enclave: 1, both: 1 })
    expect(f.signatures).toBeGreaterThan(20)
  }, 120_000)
})
