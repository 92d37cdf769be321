import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { EnclaveClient } from './EnclaveClient.js'
import { LANE_WAITING, RelayLanes, relayOwnerAct } from './relayOwnerAct.js'

/** A signer and a governance that answer after a tick, logging each step: what the relay interleaves. */
function fakes() {
  const log: string[] = []
  let inFlight = 0
  let most = 0
  const tick = () => new Promise((r) => setTimeout(r, 1))
  const call = (async (msg: { type: string; message: string }) => {
    const w = (JSON.parse(msg.message) as { wallet?: string; owner?: string }).wallet ?? 'create'
    if (msg.type === 'ownerAct') {
      most = Math.max(most, ++inFlight)
      log.push(`view ${w}`)
      await tick()
      return { ok: true, result: { needs: 'governance', view: new Uint8Array(1), link: new Uint8Array(1) } }
    }
    await tick()
    log.push(`decision ${w}`)
    inFlight--
    return { ok: true, result: { wallet: w } }
  }) as never
  const governance = { connected: true, call: async () => (await tick(), { ok: true, result: { decision: new Uint8Array(1) } }) } as unknown as EnclaveClient
  const act = (wallet: string) => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet }), signature: '0x' })
  return { log, call, governance, act, most: () => most }
}

describe('relayOwnerAct (rt37): one act per wallet at a time, a bounded number in all', () => {
  it('acts naming one wallet (any spelling) never interleave: each view is followed by its decision', async () => {
    const f = fakes()
    await Promise.all(['0xAA', '0xaa', '0xAa', '0xaA'].map((w) => relayOwnerAct(f.call, f.governance, f.act(w))))
    expect(f.log).toEqual(['0xAA', '0xaa', '0xAa', '0xaA'].flatMap((w) => [`view ${w}`, `decision ${w}`]))
  })

  it('acts naming other wallets run side by side: at most 32 at once on wallets no act applied to yet (rt38), 256 in all', async () => {
    // Real addresses and signatures: a wallet's lane is preferred for the signers whose acts applied to it (rt38b).
    const owner = privateKeyToAccount(generatePrivateKey())
    const sign = (wallet: string) =>
      signOwnerAct({ account: owner, primaryType: 'FreezeAgent', message: { wallet: wallet as `0x${string}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' } })
    const wallets = Array.from({ length: 300 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`)
    const f = fakes()
    const acts = await Promise.all(wallets.map(sign))
    const answers = await Promise.all(acts.map((a) => relayOwnerAct(f.call, f.governance, a)))
    expect(answers.every((a) => a.ok)).toBe(true)
    expect(f.most()).toBe(32)
    expect(f.log.indexOf(`view ${wallets[1]}`)).toBeLessThan(f.log.indexOf(`decision ${wallets[0]}`))
    // Each of them had an act of this owner's applied: now its acts go side by side up to the limit, ahead of acts on
    // unknown wallets; another signer's acts naming them (after them in their lanes) are not preferred: rt38b's
    // test/adversarial/strangerNamesAppliedWalletsForPreferredLane.
    const g = fakes()
    const unknown = Array.from({ length: 100 }, (_, i) => `0xf${i.toString(16).padStart(39, '0')}`)
    const stranger = wallets.slice(0, 100).map((w) => ({ ...g.act(w), signature: `0x${'11'.repeat(65)}` }))
    await Promise.all([...(await Promise.all(unknown.map(sign))), ...(await Promise.all(wallets.map(sign))), ...stranger].map((a) => relayOwnerAct(g.call, g.governance, a)))
    expect(g.most()).toBe(256)
    expect(g.log.indexOf(`decision ${wallets[299]}`)).toBeLessThan(g.log.indexOf(`decision ${unknown[99]}`))
  })
})

describe('relayOwnerAct (scope38): bounded lanes, owners\' acts first', () => {
  /** A signer whose ownerAct waits until released (the act running on the lane), logging which act ran. */
  function gated() {
    const log: string[] = []
    const gates: Array<() => void> = []
    const call = (async (msg: { type: string; message: string }) => {
      const who = (JSON.parse(msg.message) as { who: string }).who
      if (msg.type === 'ownerAct') {
        log.push(who)
        await new Promise<void>((r) => gates.push(r))
        return { ok: true, result: { needs: 'governance', view: new Uint8Array(1), link: new Uint8Array(1) } }
      }
      return { ok: true, result: { who, wallet: '0xaa' } }
    }) as never
    const governance = { connected: true, call: async () => ({ ok: true, result: { decision: new Uint8Array(1) } }) } as unknown as EnclaveClient
    const act = (who: string) => ({ primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: '0xaa', who }), signature: '0x' })
    const byOwner = async (b: { message: string }) => (JSON.parse(b.message) as { who: string }).who.startsWith('owner')
    const settle = () => new Promise((r) => setTimeout(r, 5))
    return { log, gates, call, governance, act, byOwner, settle }
  }

  it('a lane holds LANE_WAITING acts waiting; one more is owner_act_queue_full (429-style, retryAfterMs), nothing relayed', async () => {
    const g = gated()
    const lanes = new RelayLanes()
    const running = relayOwnerAct(g.call, g.governance, g.act('first'), g.byOwner, lanes)
    await g.settle()
    const queued = Array.from({ length: LANE_WAITING }, (_, i) => relayOwnerAct(g.call, g.governance, g.act(`s${i}`), g.byOwner, lanes))
    await g.settle()
    const over = await relayOwnerAct(g.call, g.governance, g.act('over'), g.byOwner, lanes)
    expect(over).toMatchObject({ ok: false, error: { code: 'owner_act_queue_full', retryAfterMs: 1_000 } })
    expect(g.log).toEqual(['first'])
    for (let i = 0; i <= LANE_WAITING; i++) {
      g.gates.shift()!()
      await g.settle()
    }
    expect((await Promise.all([running, ...queued])).every((r) => r.ok)).toBe(true)
    expect(g.log).toEqual(['first', ...Array.from({ length: LANE_WAITING }, (_, i) => `s${i}`)])
  })

  it("an owner's act runs right after the running one, ahead of every stranger's waiting; its own queue is bounded too", async () => {
    const g = gated()
    const lanes = new RelayLanes()
    const all = [relayOwnerAct(g.call, g.governance, g.act('first'), g.byOwner, lanes)]
    await g.settle()
    for (let i = 0; i < LANE_WAITING + 4; i++) all.push(relayOwnerAct(g.call, g.governance, g.act(`s${i}`), g.byOwner, lanes))
    all.push(relayOwnerAct(g.call, g.governance, g.act('owner1'), g.byOwner, lanes), relayOwnerAct(g.call, g.governance, g.act('owner2'), g.byOwner, lanes))
    await g.settle()
    while (g.gates.length > 0) {
      g.gates.shift()!()
      await g.settle()
    }
    const answers = await Promise.all(all)
    expect(g.log.slice(0, 3)).toEqual(['first', 'owner1', 'owner2'])
    expect(answers.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(Array(4).fill('owner_act_queue_full'))
    // The owners' queue is bounded the same way (an owner flooding a wallet of their own).
    const more = [relayOwnerAct(g.call, g.governance, g.act('s-running'), g.byOwner, lanes)]
    await g.settle()
    for (let i = 0; i < LANE_WAITING; i++) more.push(relayOwnerAct(g.call, g.governance, g.act(`owner-${i}`), g.byOwner, lanes))
    await g.settle()
    expect(await relayOwnerAct(g.call, g.governance, g.act('owner-over'), g.byOwner, lanes)).toMatchObject({ ok: false, error: { code: 'owner_act_queue_full' } })
    while (g.gates.length > 0) {
      g.gates.shift()!()
      await g.settle()
    }
    expect((await Promise.all(more)).every((r) => r.ok)).toBe(true)
  })
})
