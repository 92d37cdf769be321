import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import type { EnclaveClient } from './EnclaveClient.js'
import { relayOwnerAct } from './relayOwnerAct.js'

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
