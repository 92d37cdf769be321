import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import YAML from 'yaml'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { parsePolicy, policyHash } from '../../shared/schemas/policy.js'
import { OwnerClient } from '../lib/OwnerClient.js'
import { generateOwnerKeyFile, loadOwnerAccount } from '../lib/loadOwnerAccount.js'
import { action, printResult } from '../lib/output.js'

type Common = { host: string; keyFile?: string; json?: boolean }
const client = (o: Common) => new OwnerClient(o.host, loadOwnerAccount(o.keyFile))
const common = (c: Command) =>
  c
    .addOption(new Option('--host <url>', 'bursar host').env('BURSAR_HOST_URL').default('http://127.0.0.1:8402'))
    .option('--key-file <file>', 'owner key file (default: BURSAR_OWNER_KEY or ~/.bursar/owner.key)')
    .option('--json', 'print JSON')
const walletOpt = (c: Command) => c.requiredOption('--wallet <address>', 'wallet address')
const agentOpt = (c: Command) => c.requiredOption('--agent <agentId>', 'agent id (agt_…)')

/** `bursar owner …`: every owner act, signed with the owner's EVM key (EIP-712). */
export function ownerCommand(): Command {
  const owner = new Command('owner').description('owner acts: wallets, agents, policies, approvals (signed with your owner key)')

  const key = owner.command('key').description('owner key')
  common(key.command('generate').description('create ~/.bursar/owner.key (0600)'))
    .option('--force', 'replace an existing key')
    .action(action(async (o: Common & { force?: boolean }) => {
      const acct = generateOwnerKeyFile(o.keyFile, o.force)
      printResult(!!o.json, { owner: acct.address }, () => `owner key created: ${acct.address}`)
    }))
  common(key.command('show').description('print the owner address')).action(action(async (o: Common) => {
    const acct = loadOwnerAccount(o.keyFile)
    printResult(!!o.json, { owner: acct.address }, () => acct.address)
  }))

  const wallet = owner.command('wallet').description('wallets')
  common(wallet.command('create').description('create a wallet inside the enclave'))
    .option('--label <label>', 'label', '')
    .action(action(async (o: Common & { label: string }) => {
      const r = await client(o).createWallet(o.label)
      printResult(!!o.json, r, () => `wallet created: ${r.wallet}\nowner: ${r.owner}\nnext: bursar owner agent add --wallet ${r.wallet}`)
    }))
  common(wallet.command('list').description('wallets in the enclave')).action(action(async (o: Common) => {
    const ws = await client(o).wallets()
    printResult(!!o.json, ws, () =>
      ws.length === 0 ? 'no wallets' : ws.map((w) => `${w.address}  ${w.label}  owner ${w.owner}  seq ${w.ownerSeq}  agents ${w.agents.length}${w.rolledBack ? '  ROLLED BACK' : ''}`).join('\n'),
    )
  }))

  const agent = owner.command('agent').description('agents')
  walletOpt(common(agent.command('add').description('generate an agent key and register it on a wallet')))
    .option('--label <label>', 'label', '')
    .option('--out <file>', 'where to write the agent key file (0600)')
    .action(action(async (o: Common & { wallet: string; label: string; out?: string }) => {
      const k = generateAgentKey({ wallet: o.wallet as `0x${string}`, host: o.host })
      await client(o).act('RegisterAgent', o.wallet, { agentId: k.agentId, agentPublicKey: `0x${k.publicKey}`, label: o.label })
      const out = o.out ?? `${k.agentId}.json`
      writeFileSync(out, `${JSON.stringify(k, null, 2)}\n`, { mode: 0o600 })
      printResult(!!o.json, { agentId: k.agentId, keyFile: out }, () => `agent registered: ${k.agentId}\nkey file: ${out} (keep it secret; give it to the agent backend)\nnext: bursar owner policy set --wallet ${o.wallet} --agent ${k.agentId} policy.yaml`)
    }))
  agentOpt(walletOpt(common(agent.command('revoke').description('revoke an agent (permanent)')))).action(
    action(async (o: Common & { wallet: string; agent: string }) => {
      const r = await client(o).act('RevokeAgent', o.wallet, { agentId: o.agent })
      printResult(!!o.json, r, () => `agent ${o.agent} revoked`)
    }),
  )
  for (const frozen of [true, false]) {
    agentOpt(walletOpt(common(agent.command(frozen ? 'freeze' : 'unfreeze').description(frozen ? 'stop an agent signing' : 'let a frozen agent sign again')))).action(
      action(async (o: Common & { wallet: string; agent: string }) => {
        const r = await client(o).act('FreezeAgent', o.wallet, { agentId: o.agent, frozen })
        printResult(!!o.json, r, () => `agent ${o.agent} ${frozen ? 'frozen' : 'unfrozen'}`)
      }),
    )
  }

  const policy = owner.command('policy').description('policies')
  agentOpt(walletOpt(common(policy.command('set').description('sign and install a policy (YAML or JSON)'))))
    .argument('<file>', 'policy file')
    .action(action(async (file: string, o: Common & { wallet: string; agent: string }) => {
      const raw = readFileSync(file, 'utf8')
      const value = file.endsWith('.json') ? JSON.parse(raw) : YAML.parse(raw)
      const p = parsePolicy({ wallet: o.wallet, agentId: o.agent, ...value })
      const text = JSON.stringify(p)
      const hash = policyHash(p)
      const r = await client(o).act('SetPolicy', o.wallet, { agentId: o.agent, version: String(p.version), policyHash: hash }, text)
      printResult(!!o.json, r, () => `policy v${p.version} installed for ${o.agent}\nhash ${hash}`)
    }))
  agentOpt(walletOpt(common(policy.command('show').description('show the installed policy')))).action(
    action(async (o: Common & { wallet: string; agent: string }) => {
      const w = await client(o).wallet(o.wallet)
      const a = w.agents.find((x) => x.agentId === o.agent)
      if (!a?.policy) throw new Error(`no policy for ${o.agent} on ${o.wallet}`)
      const p = JSON.parse(a.policy.json)
      printResult(!!o.json, { version: a.policy.version, hash: a.policy.hash, policy: p }, () => `# version ${a.policy!.version}  hash ${a.policy!.hash}\n${YAML.stringify(p)}`)
    }),
  )

  const pending = owner.command('pending').description('out-of-policy requests waiting for you')
  walletOpt(common(pending.command('list'))).action(action(async (o: Common & { wallet: string }) => {
    const w = await client(o).wallet(o.wallet)
    const open = w.pending.filter((p) => p.status === 'pending')
    printResult(!!o.json, open, () => (open.length ? open.map((p) => `${p.pendingId}  agent ${p.agentId}  expires ${new Date(Number(p.expiresAt)).toISOString()}`).join('\n') : 'nothing pending'))
  }))
  for (const approve of [true, false]) {
    walletOpt(common(owner.command(approve ? 'approve' : 'reject').description(approve ? 'approve a pending request (used once)' : 'reject a pending request')))
      .argument('<pendingId>')
      .action(action(async (id: string, o: Common & { wallet: string }) => {
        const r = await client(o).act('ResolvePending', o.wallet, { pendingId: id, approve })
        printResult(!!o.json, r, () => `${id} ${approve ? 'approved: the agent can retry now' : 'rejected'}`)
      }))
  }

  const permit = owner.command('permit').description('single-use spend permits')
  agentOpt(walletOpt(common(permit.command('issue').description('issue an amount- and merchant-locked, expiring, single-use permit'))))
    .requiredOption('--chain <id>', 'chain id')
    .requiredOption('--asset <address>', 'token contract')
    .requiredOption('--amount <baseUnits>', 'maximum amount in base units')
    .option('--pay-to <address>', 'lock to this pay-to', `0x${'0'.repeat(40)}`)
    .option('--resource-host <host>', 'lock to this x402 resource host', '')
    .option('--expires-in <seconds>', 'lifetime', '3600')
    .option('--exceed-caps', 'let this permit go beyond the wallet caps')
    .action(action(async (o: Common & Record<string, string> & { exceedCaps?: boolean }) => {
      const permitId = `pmt_${randomBytes(8).toString('hex')}`
      const r = await client(o).act('IssuePermit', o.wallet!, {
        agentId: o.agent,
        permitId,
        chainId: o.chain,
        asset: o.asset,
        amount: o.amount,
        payTo: o.payTo,
        host: o.resourceHost,
        expiresAt: String(Date.now() + Number(o.expiresIn) * 1000),
        exceedCaps: !!o.exceedCaps,
      })
      printResult(!!o.json, r, () => `permit issued: ${permitId}`)
    }))

  walletOpt(common(owner.command('resync').description('after a detected rollback: accept the enclave state and continue from your newest seq')))
    .requiredOption('--seq <n>', 'your newest owner seq + 1')
    .action(action(async (o: Common & { wallet: string; seq: string }) => {
      const r = await client(o).post('Resync', { wallet: o.wallet, seq: o.seq })
      printResult(!!o.json, r, () => `wallet ${o.wallet} resynced at seq ${o.seq}`)
    }))
  return owner
}
