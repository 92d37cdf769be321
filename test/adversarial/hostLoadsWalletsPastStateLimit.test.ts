import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createSimSealer } from '../../sim/simSealer.js'
import { parseAdmission } from '../../shared/owner/parseAdmission.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { OWNER_LIMITS } from '../../shared/owner/ownerLimits.js'
import { Enclave } from '../../enclave/Enclave.js'
import { applyOwnerAct } from '../helpers/ownerActInProcess.js'
import { finishLoad } from '../../enclave/state/loadState.js'

/**
 * rt31a. Attack: the operator (or a failover that lands every wallet on one pair) loads wallet after wallet into one
 * ready enclave. Growing owner acts are refused once the sealed state is half the frame limit (stateSoftBytes), so
 * shrinking acts always still fit; loadWallet had no such bound. Past the frame the next restart cannot even hand the
 * state in (loadState is one frame), and finishLoad's full re-seal of every wallet halts on the oversized snapshot:
 * the pair is bricked. Each load is fine on its own, so only a bound at the load stops it.
 *
 * The enclave's sealed size is set white-box (building 15 MiB of real wallet state takes minutes); what is checked is
 * the enclave's own refusal: a load that would take the sealed state past stateSoftBytes is limit_state_size and
 * changes nothing (the wallet stays not loaded, the audit head does not move), and the same load fits once it does.
 */
async function readyEnclave(): Promise<Enclave> {
  const sealer = createSimSealer({ keyFile: path.join(mkdtempSync(path.join(tmpdir(), 'bursar-rt31a-')), 'k'), rejectOlderVersions: false })
  const enclave = new Enclave({ mode: 'sim', sealer, nsm: { kind: 'mock', attest: async () => new Uint8Array() }, configVersion: '1', admission: parseAdmission(undefined), log: () => {}, snapshotEvery: 1_000_000 })
  await enclave.loadSnapshot(null)
  await finishLoad(enclave)
  return enclave
}

async function createWallet(enclave: Enclave, owner = privateKeyToAccount(generatePrivateKey())): Promise<string> {
  const body = await signOwnerAct({ account: owner, primaryType: 'CreateWallet', message: { owner: owner.address, label: '', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain: enclave.audit.id } })
  const created = await applyOwnerAct(enclave, body)
  if (!created.ok) throw new Error(created.error.code)
  return (created.result as { wallet: string }).wallet.toLowerCase()
}

describe('adversarial: host loads wallets into one enclave past the state limits', () => {
  it('a 33rd wallet (walletsTotal 32, which the snapshot bound assumes) is refused (limit_wallets_total) and changes nothing', async () => {
    const enclave = await readyEnclave()
    const W = await createWallet(enclave)
    for (let i = 1; i < OWNER_LIMITS.walletsTotal; i++) await createWallet(enclave)
    await expect(createWallet(enclave)).rejects.toMatchObject({ code: 'limit_wallets_total' }) // the owner path's bound
    const final = (await enclave.dropWallet(W)).persist.sealed!.wallets!.find((w) => w.wallet === W)!
    await createWallet(enclave) // back at 32 held
    const head = enclave.audit.head()
    await expect(enclave.loadWallet(W, final.blob, [])).rejects.toMatchObject({ code: 'limit_wallets_total' })
    expect(() => enclave.wallet(W)).toThrow(expect.objectContaining({ code: 'wallet_not_loaded' }))
    expect(enclave.audit.head()).toEqual(head)
    expect(enclave.state.wallets.size).toBe(OWNER_LIMITS.walletsTotal)
  }, 60_000)

  it('a load that would pass stateSoftBytes is refused (limit_state_size) and changes nothing', async () => {
    const enclave = await readyEnclave()
    const W = await createWallet(enclave)
    const dropped = await enclave.dropWallet(W)
    const final = dropped.persist.sealed!.wallets!.find((w) => w.wallet === W)!

    // The enclave already holds other wallets' state up to just under the soft limit (white-box: see above).
    const sized = enclave as unknown as { snapshotBytes: number }
    const real = sized.snapshotBytes
    sized.snapshotBytes = OWNER_LIMITS.stateSoftBytes - final.blob.length + 1
    const head = enclave.audit.head()
    await expect(enclave.loadWallet(W, final.blob, [])).rejects.toMatchObject({ code: 'limit_state_size' })
    expect(() => enclave.wallet(W)).toThrow(expect.objectContaining({ code: 'wallet_not_loaded' }))
    expect(enclave.audit.head()).toEqual(head)
    expect(enclave.phase).toBe('ready')

    // Exactly at the limit it fits; the refusal above left nothing half-loaded.
    sized.snapshotBytes = OWNER_LIMITS.stateSoftBytes - final.blob.length
    const loaded = await enclave.loadWallet(W, final.blob, [])
    expect(loaded.result).toMatchObject({ wallet: W, version: final.version })
    expect(enclave.wallet(W).address.toLowerCase()).toBe(W)
    expect(sized.snapshotBytes).toBeLessThan(OWNER_LIMITS.stateSoftBytes) // the load's seal measured the real state again
    expect(real).toBeGreaterThan(0)
  })
})
