import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requestSignature } from '../../agent/requestSignature.js'
import { HostRequestError } from '../../cli/lib/OwnerClient.js'
import { eip3009, verifyEip3009 } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'

/**
 * Attack: one owner of a shared wallet (a stolen key, a rogue co-owner) exports the wallet key to its own X25519 key,
 * or a bare majority does while the owner set needs all three for its strictest act. Through the real host and
 * enclave: an export needs the STRICTEST threshold of the owner set (3 of 3 here, though loosening needs 2), so one
 * or two signatures only make a proposal; once accepted it waits out the wallet's delay, during which any single owner
 * cancels it (CLI); the agent signs throughout.
 */
describe('adversarial: a single owner exports the wallet key', () => {
  let q: QuorumWallet
  const pay = async (): Promise<boolean> => {
    const operation = eip3009({ wallet: q.wallet, value: 500n })
    const r = await requestSignature({ host: q.stack.url, agentKey: q.agentKey, wallet: q.wallet, operation })
    return verifyEip3009(q.wallet, operation, r.signature as Hex)
  }
  const json = (s: string) => JSON.parse(s) as Record<string, any>
  let pub: string

  beforeAll(async () => {
    q = await startQuorumWallet({ prefix: 'exit1', quorum: { stopQuorum: '1', approveQuorum: '2', loosenQuorum: '2', agentsQuorum: '2', ownersQuorum: '3' }, delaySeconds: 3600 })
    const gen = await q.cli(0, ['exit-key', 'generate', '--out', path.join(q.dir, 'mine.key')])
    expect(gen.code, gen.stderr).toBe(0)
    pub = path.join(q.dir, 'mine.key.pub')
  }, 60_000)
  afterAll(async () => {
    await q?.stack.stop()
  })

  it('one signature, the same one twice, or two of three: nothing leaves and nothing is scheduled', async () => {
    const one = await q.cli(0, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--json'])
    expect(one.code, one.stdout + one.stderr).toBe(0)
    const p = json(one.stdout).proposal
    expect(p).toMatchObject({ act: 'ExportKey', threshold: 3 })
    expect(json(one.stdout).exported).toBeUndefined()
    const twice = await q.clients[0]!.cosign(q.wallet, p.actHash).catch((e) => e)
    expect((twice as HostRequestError).code).toBe('owner_act_replayed')
    const two = await q.clients[1]!.cosign(q.wallet, p.actHash)
    expect(two.proposal).toMatchObject({ signers: [q.owners[0]!.address, q.owners[1]!.address], threshold: 3 })
    expect(two.exported).toBeUndefined()
    expect(two.scheduled).toBeUndefined()
    expect((await q.clients[2]!.wallet(q.wallet)).exit ?? null).toBeNull()
    expect(await pay()).toBe(true)
  }, 30_000)

  it('with all three it waits the delay; any single owner cancels it; the agent signs throughout', async () => {
    const info = await q.clients[0]!.wallet(q.wallet)
    const p = info.proposals.find((x) => x.act === 'ExportKey')!
    const three = await q.clients[2]!.cosign(q.wallet, p.actHash)
    expect(three.scheduled).toMatchObject({ actHash: p.actHash })
    expect(three.exported).toBeUndefined()
    expect(await pay()).toBe(true)
    // The lone owner tries to collect now: refused by the time lock.
    const early = await q.cli(0, ['wallet', 'export', '--wallet', q.wallet, '--to', pub, '--json'])
    expect(json(early.stdout).error.code).toBe('export_time_locked')
    const cancel = await q.cli(1, ['scheduled', 'cancel', '--wallet', q.wallet, p.actHash, '--json'])
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0)
    expect(json(cancel.stdout).cancelled).toBe(p.actHash)
    expect((await q.clients[0]!.wallet(q.wallet)).exit ?? null).toBeNull()
    expect(await pay()).toBe(true)
    // A low-order recipient key (whose shared secret anyone knows) is refused before any owner's signature counts.
    const weak = await q.clients[0]!.act('ExportKey', q.wallet, { recipientKey: `0x${'00'.repeat(32)}` }).catch((e) => e)
    expect((weak as HostRequestError).code).toBe('owner_act_invalid')
    // Starting over by one owner is a proposal again.
    const again = await q.clients[0]!.act('ExportKey', q.wallet, { recipientKey: p.message ? JSON.parse(p.message).recipientKey : '' })
    expect(again.proposal).toMatchObject({ threshold: 3 })
  }, 30_000)
})
