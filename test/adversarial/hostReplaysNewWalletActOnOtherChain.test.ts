import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sealToX25519 } from '../../shared/owner/keyExitCipher.js'
import { OWNER_DOMAIN } from '../../shared/owner/ownerActTypes.js'
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js'
import { hostWithWallet } from '../helpers/governanceRelay.js'
import { MaliciousHost, refusalCode } from '../helpers/maliciousHost.js'

/**
 * Attack (rt32a, fixed by gov36; malicious host through real signer + governance processes): enclave X writes the
 * root chain; the host starts enclave Y on a chain of its own from X's core (same lineage: receipt key, import key,
 * core id), as a per-wallet cluster's second pair does. A CreateWallet's or ImportWallet's nonce is remembered only in
 * the chain that applied it, so the host took an act the owner signed for X and replayed it at Y: a second wallet
 * from one signature, or for ImportWallet the owner's key held by two enclaves with two budgets. Each act now names
 * the audit chain it was signed for (core id ‖ chain id); governance refuses any other: `owner_act_wrong_chain`, and
 * nothing is created. An act signed by tools older than gov36 (no chain) is refused with the same code; and a host
 * that hands the owner Y's chain while sending the act to X gets a refusal at X (only Y would take it: one wallet).
 */
describe('adversarial: the host replays a CreateWallet / ImportWallet at another enclave’s chain', () => {
  let x: MaliciousHost
  let y: MaliciousHost
  let chainX: string
  let chainY: string
  const owner = privateKeyToAccount(generatePrivateKey())

  beforeAll(async () => {
    ;({ host: x } = await hostWithWallet())
    y = new MaliciousHost(x.dataDir, 'y.sock')
    await y.startEnclave()
    expect((await y.call({ type: 'hello', protocolVersion: PROTOCOL_VERSION })).ok).toBe(true)
    expect((await y.call({ type: 'loadState', snapshot: x.latestSnapshot()!.blob, wallets: [], newChain: true })).ok).toBe(true)
    expect((await y.call({ type: 'finishLoad' })).ok).toBe(true)
    ;[chainX, chainY] = [await x.auditChain(), await y.auditChain()]
  })
  afterAll(async () => {
    await y?.stop()
    await x?.stop()
  })

  const act = (primaryType: 'CreateWallet' | 'ImportWallet', message: Record<string, unknown>) => ({ account: owner, primaryType, message })
  const fresh = (auditChain?: string) => ({ owner: owner.address, label: 'x', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), ...(auditChain ? { auditChain } : {}) })
  const ownerWallets = async (h: MaliciousHost) => (await h.wallets()).filter((w) => w.owner.toLowerCase() === owner.address.toLowerCase()).map((w) => w.address.toLowerCase())

  it('the two enclaves share the lineage (core id) and write two chains', () => {
    expect(chainX).toMatch(/^0x[0-9a-f]{32}0{32}$/) // the root chain
    expect(chainY.slice(0, 34)).toBe(chainX.slice(0, 34))
    expect(chainY).not.toBe(chainX)
  })

  it('a CreateWallet applied at X and replayed at Y → owner_act_wrong_chain, one wallet', async () => {
    const a = act('CreateWallet', fresh(chainX))
    const first = await x.ownerAct(a)
    expect(first.ok, JSON.stringify(first)).toBe(true)
    expect(refusalCode(await y.ownerAct(a))).toBe('owner_act_wrong_chain')
    expect(await ownerWallets(y)).toEqual([])
    expect(await ownerWallets(x)).toEqual([(first as { result: { wallet: string } }).result.wallet.toLowerCase()])
  })

  it('an ImportWallet applied at X and replayed at Y → owner_act_wrong_chain: the key is in one enclave only', async () => {
    const att = await x.call({ type: 'attest', nonce: null })
    if (!att.ok) throw new Error(att.error.code)
    const importKey = Buffer.from((att.result as { importKey: string }).importKey.slice(2), 'hex')
    const key = generatePrivateKey()
    const address = privateKeyToAddress(key)
    const sealedKey = `0x${Buffer.from(sealToX25519(importKey, Buffer.from(key.slice(2), 'hex'), address)).toString('hex')}`
    const a = act('ImportWallet', { ...fresh(chainX), address, sealedKey })
    expect((await x.ownerAct(a)).ok).toBe(true)
    expect(refusalCode(await y.ownerAct(a))).toBe('owner_act_wrong_chain')
    expect((await y.wallets()).map((w) => w.address.toLowerCase())).not.toContain(address.toLowerCase())
    // Y's own import key is the lineage's: the same key signed for Y's chain imports there (the check is the chain, not the seal).
    expect((await y.ownerAct(act('ImportWallet', { ...fresh(chainY), address, sealedKey }))).ok).toBe(true)
  })

  it('the host hands the owner Y’s chain but sends the act to X → refused at X; an act naming no chain → refused', async () => {
    const before = await ownerWallets(x)
    expect(refusalCode(await x.ownerAct(act('CreateWallet', fresh(chainY))))).toBe('owner_act_wrong_chain')
    expect(refusalCode(await x.ownerAct(act('CreateWallet', fresh(`0x${randomBytes(32).toString('hex')}`))))).toBe('owner_act_wrong_chain')
    // Signed by tools older than gov36 (the old EIP-712 type, without auditChain): refused with the same code.
    const message = fresh()
    const types = { CreateWallet: [{ name: 'owner', type: 'address' }, { name: 'label', type: 'string' }, { name: 'nonce', type: 'bytes32' }, { name: 'issuedAt', type: 'uint64' }] }
    const signature = await owner.signTypedData({ domain: OWNER_DOMAIN, types, primaryType: 'CreateWallet', message: { ...message, nonce: message.nonce as `0x${string}`, issuedAt: BigInt(message.issuedAt) } })
    expect(refusalCode(await x.call({ type: 'ownerAct', primaryType: 'CreateWallet', message: JSON.stringify(message), signature }))).toBe('owner_act_wrong_chain')
    expect(await ownerWallets(x)).toEqual(before)
  })
})
