import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { HostRequestError, OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import { auditEntries, paymentPolicy, runCli } from '../helpers/agentClient.js'
import { type Stack, startStack } from '../helpers/startStack.js'

/**
 * Attack: an owner rotates its key (the old one is suspected stolen): `SetOwners` replaces the creating owner's key by
 * a new one. Through the real host and enclave, the old key — though it created the wallet — can no longer act on it
 * nor read its audit log; the new key does both, and the CLI lists the wallet under the new key only.
 */
describe('adversarial: a rotated-out owner key keeps acting', () => {
  let stack: Stack
  let dir: string
  const oldKey = generatePrivateKey()
  const newKey = generatePrivateKey()
  const oldOwner = privateKeyToAccount(oldKey)
  const newOwner = privateKeyToAccount(newKey)
  let wallet: Hex
  let agentKey: AgentKey
  const cli = (key: Hex, args: string[]) => runCli(['owner', ...args], { BURSAR_HOST_URL: stack.url, BURSAR_OWNER_KEY: key, HOME: dir }, dir)

  beforeAll(async () => {
    stack = await startStack()
    dir = mkdtempSync(path.join(tmpdir(), 'bursar-rotate-'))
    ;({ wallet } = await new OwnerClient(stack.url, oldOwner).createWallet('solo'))
    ;({ agentKey } = await setupAgent({ host: stack.url, owner: oldOwner, wallet, policy: paymentPolicy({ perTx: '1000', rolling24h: '100000' }) }))
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
