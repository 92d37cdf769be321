import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount, privateKeyToAddress } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { sealToX25519 } from '../../shared/owner/keyExitCipher.js'
import { type RelayParts, sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { hostWithWalletPerFile } from '../helpers/hostWithWalletPerFile.js'
import { refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (a lone owner, or a host for one; create37): since create37 the signer re-checks a create decision's nonce,
 * admission and limits at apply instead of requiring the view's exact counts. Two ImportWallets of the same key (two
 * nonces) viewed before either lands would both fit those checks, and the second would replace the wallet the first
 * made: a fresh record, so its ledger (spent caps), agents, policies and co-owners' governance records reset. The
 * signer keeps one outstanding view per wallet (the second view replaces the first: governance_stale), and a decision
 * whose imported wallet landed since its view is governance_stale too (applyOwnerAct, defence in depth); relayed again,
 * governance refuses it as wallet_exists, and the wallet keeps what was done to it.
 */
describe('adversarial: an owner races two ImportWallets of one key to reset the wallet (real signer and governance processes)', () => {
  const s = hostWithWalletPerFile()

  it('two imports viewed at once: one wallet; the replaced view is governance_stale, relayed again wallet_exists; nothing reset', async () => {
    const { host } = s
    const owner = privateKeyToAccount(generatePrivateKey())
    const att = await host.call({ type: 'attest', nonce: null })
    if (!att.ok) throw new Error(att.error.code)
    const { auditChain, importKey } = att.result as { auditChain: string; importKey: string }
    const key = generatePrivateKey()
    const address = privateKeyToAddress(key)
    const sealed = sealToX25519(Buffer.from(importKey.slice(2), 'hex'), Buffer.from(key.slice(2), 'hex'), address)
    const message = (label: string) => ({ owner: owner.address, label, nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain, address, sealedKey: `0x${Buffer.from(sealed).toString('hex')}` })
    // Both views taken before either decision lands (a host holding them, or two concurrent imports).
    const parts: RelayParts[] = [await viewAndDecision(host, owner, 'ImportWallet', message('first')), await viewAndDecision(host, owner, 'ImportWallet', message('second'))]
    // The signer keeps one outstanding view per wallet: the first's was replaced by the second's.
    expect(refusalCode(await sendDecision(host, parts[0]!.body, parts[0]!.decision))).toBe('governance_stale')
    const second = await sendDecision(host, parts[1]!.body, parts[1]!.decision)
    expect(second.ok, JSON.stringify(second)).toBe(true)
    // Something done to the wallet afterwards: an agent registered (a replaced record would drop it).
    const { agent } = await host.setupAgent(owner, address, { version: 1, rules: [] } as never).catch(() => ({ agent: null }))
    const seq = await host.ownerSeq(address)
    // The first import relayed again (a fresh view, the wallet exists now): governance refuses it; nothing replaced.
    expect(refusalCode(await host.call({ type: 'ownerAct', ...parts[0]!.body }))).toBe('wallet_exists')
    const w = (await host.wallets()).filter((x) => x.address.toLowerCase() === address.toLowerCase())
    expect(w).toHaveLength(1)
    expect(w[0]!.label).toBe('second')
    expect(w[0]!.ownerSeq).toBe(seq)
    expect(seq).toBeGreaterThan(0) // the RegisterAgent counted (a replaced record starts at 0)
    void agent
  })
})
