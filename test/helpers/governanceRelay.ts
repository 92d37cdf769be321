import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { OwnerActType } from '../../shared/owner/ownerActTypes.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { MaliciousHost } from './maliciousHost.js'

export type RelayParts = { body: Awaited<ReturnType<typeof signOwnerAct>> & { policy?: string }; view: Uint8Array; link: Uint8Array; decision: Uint8Array }

/**
 * Issue 12 stage B, for the relay's adversarial tests: the owner act's steps a malicious host sees — the signer's
 * view and sealed link key (ownerAct), governance's decision on it (decide) — without sending the decision back.
 */
export async function viewAndDecision(host: MaliciousHost, account: LocalAccount, primaryType: OwnerActType, message: Record<string, unknown>, policy?: string): Promise<RelayParts> {
  const body = { ...(await signOwnerAct({ account, primaryType, message })), ...(policy !== undefined ? { policy } : {}) }
  const first = await host.callSigner({ type: 'ownerAct', ...body })
  if (!first.ok) throw new Error(`ownerAct: ${first.error.code}`)
  const { view, link } = first.result as { view: Uint8Array; link: Uint8Array }
  const d = await host.decide(view, link)
  if (!d.ok) throw new Error(`decide: ${d.error.code}`)
  return { body, view, link, decision: (d.result as { decision: Uint8Array }).decision }
}

/** The signer's end of the relay: a decision (any bytes) sent back with an act. */
export const sendDecision = (host: MaliciousHost, body: RelayParts['body'], decision: Uint8Array) => host.callSigner({ type: 'ownerActDecision', ...body, decision })

/** A real sim enclave (and the governance process it starts) behind a malicious host, loaded, with one owner's wallet. */
export async function hostWithWallet(env: Record<string, string> = {}): Promise<{ host: MaliciousHost; owner: LocalAccount; wallet: Hex }> {
  const host = new MaliciousHost()
  host.env = env
  await host.startEnclave()
  const boot = await host.bootstrapHonest()
  if (!boot.ok) throw new Error(`bootstrap: ${boot.error.code}`)
  const owner = privateKeyToAccount(generatePrivateKey())
  return { host, owner, wallet: await host.createWallet(owner) }
}
