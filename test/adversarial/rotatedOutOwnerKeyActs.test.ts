import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { HostRequestError, OwnerClient } from '../../cli/lib/OwnerClient.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { auditEntries } from '../helpers/agentClient.js'
import { type QuorumWallet, startQuorumWallet } from '../helpers/quorumWallet.js'
import type { Stack } from '../helpers/startStack.js'

/**
 * Attack: an owner rotates its key (the old one is suspected stolen): `SetOwners` replaces the creating owner's key by
 * a new one. Through the real host and enclave, the old key — though it created the wallet — can no longer act on it
 * nor read its audit log; the new key does both, and the CLI lists the wallet under the new key only.
 */
describe('adversarial: a rotated-out owner key keeps acting', () => {
  let stack: Stack
  let oldKey: Hex
  let newKey: Hex
  let oldOwner: LocalAccount
  let newOwner: LocalAccount
  let wallet: Hex
  let agentKey: AgentKey
  let cli: QuorumWallet['cli']

  beforeAll(async () => {
    // Two keys, the wallet created by the first and ruled by it alone (no SetOwners yet).
    let keys: Hex[]
    let owners: LocalAccount[]
    ;({ stack, keys, owners, wallet, agentKey, cli } = await startQuorumWallet({ prefix: 'rotate', owners: 2, quorum: null }))
    ;[oldKey, newKey] = keys as [Hex, Hex]
    ;[oldOwner, newOwner] = owners as [LocalAccount, LocalAccount]
  }, 60_000)
  afterAll(async () => {
    await stack?.stop()
  })

  it('the old key rotates itself out through the CLI (1 of 1); afterwards only the new key acts and reads', async () => {
    const rotate = await cli(oldKey, ['wallet', 'owners', 'set', '--wallet', wallet, '--owner', newOwner.address, '--json'])
    expect(rotate.code, rotate.stdout + rotate.stderr).toBe(0)
    expect(JSON.parse(rotate.stdout)).toMatchObject({ owners: [newOwner.address.toLowerCase()] })

    const refused = await new OwnerClient(stack.url, oldOwner).act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true }).catch((e) => e)
    expect(refused).toBeInstanceOf(HostRequestError)
    expect((refused as HostRequestError).code).toBe('owner_not_authorized')

    const token = await signAuditReadToken({ account: oldOwner, host: stack.url, expiresAt: Date.now() + 60_000 })
    const read = await fetch(`${stack.url}/v1/audit/entries?wallet=${wallet}`, { headers: { authorization: `${AUDIT_READ_SCHEME} ${token}` } })
    expect(read.status).toBe(403)
    expect(((await read.json()) as { code: string }).code).toBe('audit_wallet_not_owned')

    const frozen = await new OwnerClient(stack.url, newOwner).act('FreezeAgent', wallet, { agentId: agentKey.agentId, frozen: true })
    expect(frozen.frozen).toBe(true)
    const events = (await auditEntries(stack.url, newOwner, { wallet })).map((e) => e.event)
    expect(events.slice(-2)).toEqual(['owners_set', 'agent_frozen'])

    const listedNew = JSON.parse((await cli(newKey, ['wallet', 'list', '--json'])).stdout) as { address: string }[]
    expect(listedNew.map((w) => w.address)).toEqual([wallet])
    expect(JSON.parse((await cli(oldKey, ['wallet', 'list', '--json'])).stdout)).toEqual([])
  }, 60_000)
})
