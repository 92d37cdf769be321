import type { LocalAccount } from 'viem'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { type Policy, parsePolicy, policyHash } from '../../shared/schemas/policy.js'

export type SetupAgentParameters = {
  host: string
  owner: LocalAccount
  wallet: `0x${string}`
  label?: string
  /** Everything but wallet/agentId; they are filled in. */
  policy: Omit<Policy, 'wallet' | 'agentId'>
}

/** Registers a fresh agent on a wallet and installs its owner-signed policy; returns the agent's key file. */
export async function setupAgent(params: SetupAgentParameters): Promise<{ agentKey: AgentKey; policy: Policy; client: OwnerClient }> {
  const client = new OwnerClient(params.host, params.owner)
  // With the receipt key the owner client trusts, as `bursar owner agent add` writes it: the SDK checks receipts under it.
  const agentKey: AgentKey = { ...generateAgentKey({ wallet: params.wallet, host: params.host }), receiptPublicKey: await client.receiptKey() }
  await client.act('RegisterAgent', params.wallet, {
    agentId: agentKey.agentId,
    agentPublicKey: `0x${agentKey.publicKey}`,
    label: params.label ?? '',
  })
  const policy = parsePolicy({ ...params.policy, wallet: params.wallet, agentId: agentKey.agentId })
  await client.act(
    'SetPolicy',
    params.wallet,
    { agentId: agentKey.agentId, version: String(policy.version), policyHash: policyHash(policy) },
    JSON.stringify(policy),
  )
  return { agentKey, policy, client }
}
