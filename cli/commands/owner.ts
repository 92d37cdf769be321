import type { ErrorCode } from '../../shared/errors/errorCodes.js'
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import YAML from 'yaml'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { AgentKeySchema } from '../../agent/loadAgentKey.js'
import { BaseError } from '../../shared/errors/base.js'
import { OwnerActMessageSchemas } from '../../shared/owner/ownerActTypes.js'
import { ApprovalSummarySchema } from '../../shared/owner/approvalSummary.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import { policyHash } from '../../shared/schemas/policy.js'
import type { OwnerActResult, WalletInfo } from '../../shared/protocol/messages.js'
import { OwnerClient } from '../lib/OwnerClient.js'
import { OwnerMarks, defaultMarksFile } from '../lib/OwnerMarks.js'
import { generateOwnerKeyFile, loadOwnerAccount } from '../lib/loadOwnerAccount.js'
import { hostOption } from '../lib/hostUrl.js'
import { action, printResult } from '../lib/output.js'
import { type PendingReason, confirm, errorMeaning, humanAmount, pendingReasons } from '../lib/pendingView.js'
import { readPolicyFile, readWalletPolicyFile } from '../lib/readPolicyFile.js'
import { type ExportFile, decryptExport, generateX25519KeyFiles, readX25519PublicKey, readX25519SecretKey } from '../lib/keyExitFiles.js'

type Common = { host: string; keyFile?: string; json?: boolean; root?: string; allowDebug?: boolean }
/**
 * Every command's client keeps the owner's high-water marks on disk (BURSAR_STATE_DIR or ~/.bursar/state), so a
 * rolled-back enclave is caught across invocations; receipts are checked against the attested (--root) or
 * first-use-pinned receipt key.
 */
const client = (o: Common, readAuthorization?: () => Promise<string>) => {
  let root: string | undefined
  if (o.root) {
    try {
      root = readFileSync(o.root, 'utf8')
    } catch (cause) {
      throw usage('usage_invalid', `Cannot read --root ${o.root}: ${(cause as Error).message}`, 'Pass the PEM of the attestation root (AWS Nitro Root-G1, or the simulation root in data/sim-pki).')
    }
  }
  return new OwnerClient(o.host, loadOwnerAccount(o.keyFile), {
    marks: new OwnerMarks(defaultMarksFile()),
    root,
    allowDebug: o.allowDebug,
    onNotice: (line) => process.stderr.write(`${line}\n`),
    readAuthorization,
  })
}
const common = (c: Command) =>
  c
    .addOption(hostOption())
    .option('--key-file <file>', 'owner key file (default: BURSAR_OWNER_KEY or ~/.bursar/owner.key)')
    .option('--root <pem>', 'attestation root: verify the enclave receipt key by attestation (default: pin it on first use)')
    .option('--allow-debug', 'with --root: accept a debug-mode (or simulated) enclave')
    .option('--json', 'print JSON')
const walletOpt = (c: Command) => c.requiredOption('--wallet <address>', 'wallet address')
const agentOpt = (c: Command) => c.requiredOption('--agent <agentId>', 'agent id (agt_…)')
const usage = (code: ErrorCode, message: string, hint: string) => new BaseError(code, message, { metaMessages: [hint] })
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const ZERO = `0x${'0'.repeat(40)}`
/** Owner acts name the chain's coin by the zero address (the ledger calls it native). */
const actAsset = (a: string | undefined) => (a?.toLowerCase() === 'native' ? ZERO : a)

function checkWallet(w: string): string {
  if (!ADDRESS.test(w)) throw usage('usage_invalid', `--wallet ${w} is not a 0x-prefixed 20-byte address`, 'List your wallets with `bursar owner wallet list`.')
  return w
}

function findAgent(w: WalletInfo, agentId: string) {
  const a = w.agents.find((x) => x.agentId === agentId)
  if (!a) throw usage('agent_not_found', `No agent ${agentId} on wallet ${w.address}`, `List them with \`bursar owner agent list --wallet ${w.address}\`.`)
  return a
}

/** The owner's wallets holding an open pending request `id` (or all of them when id is undefined). */
async function myWallets(c: OwnerClient, wallet: string | undefined): Promise<WalletInfo[]> {
  if (wallet) return [await c.wallet(checkWallet(wallet))]
  const me = c.account.address.toLowerCase()
  return (await c.wallets()).filter((w) => w.governance.owners.some((o) => o.toLowerCase() === me))
}

/** Escapes control and bidi-override characters, so agent-chosen text cannot redraw or reorder what the owner reads. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * What the owner approves, from the pending summary the enclave built (shared/owner/approvalSummary.ts): its
 * description, the validity span a retry may have, the fields a retry may change, and the exact decoded content
 * (every field that reaches the signature). SECURITY: nothing is approved blind: a summary of another shape is
 * shown as unreadable, never as "?".
 */
export function describeSummary(s: unknown): string {
  const parsed = ApprovalSummarySchema.safeParse(s)
  if (!parsed.success) return 'UNREADABLE SUMMARY (not the approval summary shape): do not approve; inspect it with --json'
  const { describe, validForSeconds, free, host, action } = parsed.data
  return [
    printable(describe),
    `valid for: ${validForSeconds === null ? 'no end (until mined, used or revoked)' : `at most ${validForSeconds}s from the retry`}`,
    `a retry may change only: ${free.length ? free.join(', ') : 'nothing'}`,
    ...(host ? [`resource host (advisory, told by the agent): ${printable(host)}`] : []),
    `exact content: ${printable(canonicalJson(action))}`,
  ].join('\n    ')
}

/** `bursar owner …`: every owner act, signed with the owner's EVM key (EIP-712). */
type ProposalView = NonNullable<OwnerActResult['proposal']>

function proposalLine(wallet: string, p: ProposalView): string {
  const signed = p.signers.map((x) => `  signed: ${x}`).join('\n')
  return `${p.act} (${p.actClass}) on ${wallet}: ${p.signers.length} of ${p.threshold} owner signatures, expires ${new Date(p.expiresAt).toISOString()}\n${signed}\n  co-sign: bursar owner proposals sign --wallet ${wallet} ${p.actHash}`
}

/** An act's result: applied (the human line), or one signature of several (who signed, how many more, how to co-sign). */
function printAct(json: boolean, r: Partial<OwnerActResult> & Record<string, unknown>, human: () => string): void {
  const p = r.proposal
  const s = r.scheduled
  const later = s && `accepted, but it widens ${s.widens.join(', ')}: it takes effect at ${new Date(s.effectiveAt).toISOString()} unless an owner cancels it\n  cancel: bursar owner scheduled cancel --wallet ${String(r.wallet)} ${s.actHash}`
  printResult(json, r, () => (p ? `nothing changed yet: ${proposalLine(String(r.wallet), p)}` : later || human()))
}

export function ownerCommand(): Command {
  const owner = new Command('owner').description('owner acts: wallets, agents, policies, approvals (signed with your owner key)')

  const key = owner.command('key').description('owner key')
  common(key.command('generate').description('create ~/.bursar/owner.key (0600), or --key-file'))
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
  common(wallet.command('create').description("create a wallet inside the enclave behind --host (the signed act names that enclave's audit chain, read from /v1/attestation: no other enclave accepts it)"))
    .option('--label <label>', 'label (≤ 64 chars)', '')
    .action(action(async (o: Common & { label: string }) => {
      if (o.label.length > 64) throw usage('usage_invalid', '--label is longer than 64 characters', 'Use a shorter label.')
      const r = await client(o).createWallet(o.label)
      printResult(!!o.json, r, () => `wallet created: ${r.wallet}\nowner: ${r.owner}\nnext: bursar owner agent add --wallet ${r.wallet}`)
    }))
  common(wallet.command('list').description('wallets in the enclave'))
    .option('--all', "every wallet, other owners' too: the operator's read (needs BURSAR_AUDIT_TOKEN)")
    .action(action(async (o: Common & { all?: boolean }) => {
      const operator = process.env.BURSAR_AUDIT_TOKEN
      // The host shows an owner only their own wallets; every wallet is the operator's view (its bearer token).
      if (o.all && !operator) throw usage('usage_invalid', '--all reads every wallet: that is the operator\'s view', 'Set BURSAR_AUDIT_TOKEN to the host\'s operator token, or drop --all to list your own wallets.')
      const c = client(o, o.all ? async () => `Bearer ${operator}` : undefined)
      const ws = o.all ? await c.wallets() : await myWallets(c, undefined)
      printResult(!!o.json, ws, () =>
        ws.length === 0
          ? `no wallets for ${c.account.address}; create one with \`bursar owner wallet create\``
          : ws.map((w) => `${w.address}  ${w.label || '-'}  owner ${w.owner}  seq ${w.ownerSeq}  agents ${w.agents.length}${w.rolledBack ? '  ROLLED BACK' : ''}${w.exit?.due ? '  EXPORTED (signs nothing)' : w.exit ? `  EXIT at ${new Date(w.exit.effectiveAt).toISOString()}` : ''}`).join('\n'),
      )
    }))

  // Non-custodial exit (docs/policy.md, "Exit and import").
  walletOpt(common(wallet.command('export').description('export the wallet key sealed to your X25519 key: the strictest owners quorum, after the wallet delay; then the wallet signs nothing more')))
    .requiredOption('--to <pubkey file>', 'the X25519 public key to seal to (hex or PEM; `bursar owner exit-key generate`)')
    .option('--out <file>', 'where to write the sealed export (default bursar-export-<wallet>.json)')
    .action(action(async (o: Common & { wallet: string; to: string; out?: string }) => {
      const recipientKey = `0x${Buffer.from(readX25519PublicKey(o.to)).toString('hex')}`
      const r = await client(o).act('ExportKey', checkWallet(o.wallet), { recipientKey })
      const out = o.out ?? `bursar-export-${String(r.wallet).toLowerCase()}.json`
      if (r.exported) writeFileSync(out, `${JSON.stringify(r.exported, null, 2)}\n`, { mode: 0o600 })
      const s = r.scheduled
      const later = s && `exit accepted: it takes effect at ${new Date(s.effectiveAt).toISOString()} (the wallet delay) unless an owner cancels it; run this command again then to collect it\n  cancel: bursar owner scheduled cancel --wallet ${String(r.wallet)} ${s.actHash}`
      const json = r.exported ? { ...r, file: out } : r
      printAct(!!o.json, json, () => later || `wallet key sealed to ${recipientKey}: ${out}\nthe wallet signs nothing more here unless re-imported\ndecrypt on your machine: bursar owner decrypt-export ${out} --key <your X25519 secret key file> --out <key file>`)
    }))
  common(wallet.command('import').description('import an existing wallet key, sealed to the enclave\'s attested import key (or bring an exported wallet back); the act names that enclave\'s audit chain'))
    .requiredOption('--private-key-file <file>', 'file holding the 0x… secp256k1 private key to import')
    .option('--label <label>', 'label (≤ 64 chars)', '')
    .action(action(async (o: Common & { privateKeyFile: string; label: string }) => {
      let text: string
      try {
        text = readFileSync(o.privateKeyFile, 'utf8').trim()
      } catch (cause) {
        throw usage('usage_invalid', `Cannot read ${o.privateKeyFile}: ${(cause as Error).message}`, 'Pass a file holding the 0x-prefixed private key.')
      }
      if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw usage('usage_invalid', `${o.privateKeyFile} does not hold a 0x-prefixed 32-byte private key`, 'E.g. the file `bursar owner decrypt-export --out` wrote.')
      const r = await client(o).importWallet(text as `0x${string}`, o.label)
      printResult(!!o.json, r, () => `wallet imported: ${r.wallet} (it signs through bursar under its policies)\nowner: ${r.owner}`)
    }))
  const exitKey = owner.command('exit-key').description('X25519 key pair for a wallet export (the secret stays on your machine)')
  common(exitKey.command('generate').description('write a secret key file (0600) and FILE.pub'))
    .requiredOption('--out <file>', 'secret key file to create')
    .action(action(async (o: Common & { out: string }) => {
      const k = generateX25519KeyFiles(o.out)
      printResult(!!o.json, k, () => `X25519 key written: ${k.secretFile} (secret, keep it here)\npublic key: ${k.publicKey} (${k.publicFile}: pass it to \`wallet export --to\`)`)
    }))
  common(owner.command('decrypt-export').description('open a wallet export with your X25519 secret key, locally (no host needed)'))
    .argument('<export file>', 'the file `wallet export` wrote')
    .requiredOption('--key <secret file>', 'your X25519 secret key (hex or PEM)')
    .requiredOption('--out <file>', 'where to write the wallet private key (created 0600)')
    .action(action(async (file: string, o: Common & { key: string; out: string }) => {
      let exp: ExportFile
      try {
        exp = JSON.parse(readFileSync(file, 'utf8')) as ExportFile
      } catch (cause) {
        throw usage('usage_invalid', `Cannot read ${file}: ${(cause as Error).message}`, 'Pass the JSON file `bursar owner wallet export` wrote.')
      }
      const { address, privateKey } = decryptExport(exp, readX25519SecretKey(o.key))
      writeFileSync(o.out, `${privateKey}\n`, { mode: 0o600, flag: 'wx' })
      printResult(!!o.json, { address, keyFile: o.out }, () => `wallet ${address}: private key written to ${o.out} (it matches the address)`)
    }))

  const walletPolicy = wallet.command('policy').description('the wallet policy: wallet-wide caps across all agents')
  walletOpt(common(walletPolicy.command('set').description('sign and install a wallet policy (YAML or JSON); the wallet comes from --wallet')))
    .argument('<file>', 'wallet policy file')
    .action(action(async (file: string, o: Common & { wallet: string }) => {
      const { policy: p, warnings } = readWalletPolicyFile({ file, wallet: checkWallet(o.wallet) })
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
      const c = client(o)
      const installed = (await c.wallet(o.wallet)).walletPolicy
      if (installed && installed.version >= p.version) {
        throw usage('policy_version_not_newer', `${file} has version ${p.version}; the installed wallet policy is version ${installed.version}`, `Set \`version: ${installed.version + 1}\` in ${file}.`)
      }
      const hash = policyHash(p)
      const r = await c.act('SetWalletPolicy', o.wallet, { version: String(p.version), policyHash: hash }, JSON.stringify(p))
      printAct(!!o.json, r, () => `wallet policy v${p.version} installed on ${o.wallet} (${p.budgets.length} wallet-wide caps)\nhash ${hash}`)
    }))
  walletOpt(common(walletPolicy.command('show').description('show the installed wallet policy'))).action(
    action(async (o: Common & { wallet: string }) => {
      const pol = (await client(o).wallet(checkWallet(o.wallet))).walletPolicy
      if (!pol) throw usage('policy_not_set', `No wallet policy on ${o.wallet}`, `Install one with \`bursar owner wallet policy set --wallet ${o.wallet} FILE\`.`)
      const p = JSON.parse(pol.json)
      printResult(!!o.json, { version: pol.version, hash: pol.hash, policy: p }, () => `# wallet policy version ${pol.version}  hash ${pol.hash}\n${YAML.stringify(p)}`)
    }),
  )

  const owners = wallet.command('owners').description('owner keys of a wallet and the m-of-n threshold per class of act')
  walletOpt(common(owners.command('set').description('set the owner keys and thresholds (an `owners`-class act: it needs the current owners quorum)')))
    .requiredOption('--owner <address...>', 'owner addresses (1-10), e.g. --owner 0xA --owner 0xB --owner 0xC')
    .option('--stop <m>', 'signatures to freeze, revoke, reject or narrow', '1')
    .option('--approve <m>', 'signatures to approve a pending request, issue a permit or credit budget', '1')
    .option('--loosen <m>', 'signatures to widen a policy or unfreeze an agent', '1')
    .option('--agents <m>', 'signatures to register an agent', '1')
    .option('--owners <m>', 'signatures to change the owner set (or resync)', '1')
    .option('--delay <seconds>', 'how long an act that widens an agent\'s limits waits before it takes effect', '0')
    .action(action(async (o: Common & { wallet: string; owner: string[]; stop: string; approve: string; loosen: string; agents: string; owners: string; delay: string }) => {
      const fields = { owners: o.owner, stopQuorum: o.stop, approveQuorum: o.approve, loosenQuorum: o.loosen, agentsQuorum: o.agents, ownersQuorum: o.owners, delaySeconds: o.delay }
      const checked = OwnerActMessageSchemas.SetOwners.safeParse({ wallet: checkWallet(o.wallet), ...fields, seq: '1' })
      if (!checked.success) throw usage('usage_invalid', `Invalid owner set: ${checked.error.issues.map((i) => `${i.path.join('.') || '(set)'}: ${i.message}`).join('; ')}`, 'Owners are distinct 0x addresses (1-10); every threshold is between 1 and the number of owners.')
      const r = await client(o).act('SetOwners', o.wallet, fields)
      printAct(!!o.json, r, () => `owners of ${o.wallet}: ${o.owner.length}\nthresholds: stop ${o.stop}, approve ${o.approve}, loosen ${o.loosen}, agents ${o.agents}, owners ${o.owners}; loosening delay ${o.delay} s`)
    }))
  walletOpt(common(owners.command('show').description('owner keys and thresholds'))).action(
    action(async (o: Common & { wallet: string }) => {
      const g = (await client(o).wallet(checkWallet(o.wallet))).governance
      const above = (g.approveAbove ?? []).map((r) => `\napprove above ${r.above} of ${r.asset} on chain ${r.chainId}: ${r.quorum} of ${g.owners.length}`).join('')
      printResult(!!o.json, g, () => `${g.owners.map((a) => `owner ${a}`).join('\n')}\nthresholds: ${Object.entries(g.thresholds).map(([k, v]) => `${k} ${v} of ${g.owners.length}`).join(', ')}\nloosening delay: ${g.delaySeconds} s${above}`)
    }),
  )
  walletOpt(common(owners.command('approve-above').description('approving a pending request that spends more than --above of an asset needs --quorum owners (an `owners`-class act; --quorum 1 removes the rule)')))
    .requiredOption('--chain <id>', 'chain id')
    .requiredOption('--asset <address>', 'token address, or native (the chain\'s coin)')
    .requiredOption('--above <amount>', 'amount in token units (base units, e.g. 700000 for 0.7 USDC)')
    .requiredOption('--quorum <m>', 'owner signatures needed above it')
    .action(action(async (o: Common & { wallet: string; chain: string; asset: string; above: string; quorum: string }) => {
      const fields = { chainId: o.chain, asset: actAsset(o.asset), above: o.above, quorum: o.quorum }
      const checked = OwnerActMessageSchemas.SetApprovalQuorum.safeParse({ wallet: checkWallet(o.wallet), ...fields, seq: '1' })
      if (!checked.success) throw usage('usage_invalid', `Invalid rule: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'Pass a chain id, a 0x token address, a decimal amount and a quorum between 1 and 10.')
      const r = await client(o).act('SetApprovalQuorum', o.wallet, fields)
      printAct(!!o.json, r, () => `approvals above ${o.above} of ${o.asset} on chain ${o.chain} need ${o.quorum} owner(s)`)
    }))

  const proposals = owner.command('proposals').description('owner acts waiting for more owners\' signatures (quorum)')
  common(proposals.command('list').description('open acts and who has signed them (all your wallets, or --wallet)'))
    .option('--wallet <address>', 'only this wallet')
    .action(action(async (o: Common & { wallet?: string }) => {
      const c = client(o)
      const open = (await myWallets(c, o.wallet)).flatMap((w) => w.proposals.map((p) => ({ wallet: w.address, ...p, owners: w.governance.owners })))
      printResult(!!o.json, open, () =>
        open.length === 0
          ? 'no acts wait for signatures'
          : open.map((p) => `${proposalLine(p.wallet, p)}\n  not yet: ${p.owners.filter((x) => !p.signers.some((s) => s.toLowerCase() === x.toLowerCase())).join(', ') || '-'}\n  message: ${p.message}`).join('\n\n'),
      )
    }))
  walletOpt(common(proposals.command('sign').description('co-sign an act another owner proposed (the message is re-hashed before signing)')))
    .argument('<actHash>', 'the act hash from `proposals list`')
    .action(action(async (actHash: string, o: Common & { wallet: string }) => {
      const r = await client(o).cosign(checkWallet(o.wallet), actHash)
      printAct(!!o.json, r, () => `${r.act} applied with your signature (owner seq ${r.ownerSeq})`)
    }))

  const scheduled = owner.command('scheduled').description('policy loosenings and key exits waiting out the wallet delay (time lock)')
  common(scheduled.command('list').description('what is scheduled, what it widens and when it takes effect (all your wallets, or --wallet)'))
    .option('--wallet <address>', 'only this wallet')
    .action(action(async (o: Common & { wallet?: string }) => {
      const ws = await myWallets(client(o), o.wallet)
      const all = ws.flatMap((w) => w.scheduled.map((x) => ({ wallet: w.address, ...x })))
      const exits = ws.flatMap((w) => (w.exit && !w.exit.due ? [{ wallet: w.address, ...w.exit }] : []))
      const held = ws.flatMap((w) => (w.held ?? []).map((x) => ({ wallet: w.address, ...x })))
      printResult(!!o.json, o.json ? [...all, ...exits.map((x) => ({ ...x, agentId: null, widens: ['key exit'] })), ...held.map((x) => ({ ...x, widens: [x.act] }))] : all, () =>
        all.length + exits.length + held.length === 0
          ? 'nothing is scheduled'
          : [
              ...all.map((x) => `${x.agentId ?? 'wallet policy'} v${x.version} on ${x.wallet}: takes effect ${new Date(x.effectiveAt).toISOString()}\n  widens: ${x.widens.join(', ')}\n  cancel: bursar owner scheduled cancel --wallet ${x.wallet} ${x.actHash}`),
              ...held.map((x) => `${x.act} for ${x.agentId} on ${x.wallet}: takes effect ${new Date(x.effectiveAt).toISOString()}\n  cancel: bursar owner scheduled cancel --wallet ${x.wallet} ${x.actHash}`),
              ...exits.map((x) => `key exit of ${x.wallet} to X25519 key ${x.recipientKey}: takes effect ${new Date(x.effectiveAt).toISOString()} (then the wallet signs nothing more)\n  cancel: bursar owner scheduled cancel --wallet ${x.wallet} ${x.actHash}`),
            ].join('\n'),
      )
    }))
  walletOpt(common(scheduled.command('cancel').description('cancel a scheduled loosening (any owner: a stop-class act)')))
    .argument('<actHash>', 'the act hash from `scheduled list`')
    .action(action(async (actHash: string, o: Common & { wallet: string }) => {
      const r = await client(o).act('CancelScheduled', checkWallet(o.wallet), { actHash: actHash.toLowerCase() })
      printAct(!!o.json, r, () => `cancelled ${actHash}: the policy in force stays`)
    }))

  const agent = owner.command('agent').description('agents')
  walletOpt(common(agent.command('add').description('generate an agent key and register it on a wallet')))
    .option('--label <label>', 'label', '')
    .option('--out <file>', 'where to write the agent key file (0600; default ./<agentId>.json)')
    .action(action(async (o: Common & { wallet: string; label: string; out?: string }) => {
      const c = client(o)
      // The enclave receipt key the owner's CLI trusts (verified by attestation with --root, else pinned): the agent SDK
      // verifies every receipt under it (issue 15, sdk15).
      const k = { ...generateAgentKey({ wallet: checkWallet(o.wallet) as `0x${string}`, host: c.host }), receiptPublicKey: await c.receiptKey() }
      const out = o.out ?? `${k.agentId}.json`
      // The key file first (never overwriting one), so a registered agent always has its key on disk.
      try {
        writeFileSync(out, `${JSON.stringify(k, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code
        throw usage('agent_key_file_unwritable', `Cannot write ${out}: ${code ?? (cause as Error).message}`, code === 'EEXIST' ? 'Pick another --out: an existing key file is never overwritten.' : 'Pick a writable --out path.')
      }
      let r: OwnerActResult
      try {
        r = await c.act('RegisterAgent', o.wallet, { agentId: k.agentId, agentPublicKey: `0x${k.publicKey}`, label: o.label })
      } catch (err) {
        unlinkSync(out)
        throw err
      }
      printAct(!!o.json, r.proposal ? { ...r, agentId: k.agentId, keyFile: out } : { agentId: k.agentId, keyFile: out }, () => `agent registered: ${k.agentId}\nkey file: ${out} (keep it secret; give it to the agent backend)\nnext: bursar owner policy set --wallet ${o.wallet} --agent ${k.agentId} policy.yaml`)
    }))
  common(agent.command('trust-receipt-key').description('write the enclave receipt key this CLI trusts (attested with --root, else pinned) into an existing agent key file, so the agent SDK can check its receipts (key files from before receipt checks)'))
    .argument('<agentKeyFile>', 'the agent key file to update (written by `bursar owner agent add`; kept 0600)')
    .option('--replace', 'replace another receipt key already in the file (another enclave signs now: check why first)')
    .action(action(async (file: string, o: Common & { replace?: boolean }) => {
      let raw: Record<string, unknown>
      try {
        raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
        AgentKeySchema.parse(raw)
      } catch (cause) {
        throw usage('usage_invalid', `${file} is not an agent key file: ${(cause as Error).message}`, 'Pass the file `bursar owner agent add` wrote.')
      }
      const key = await client(o).receiptKey()
      const bare = (k: unknown) => String(k ?? '').toLowerCase().replace(/^0x/, '')
      const old = raw.receiptPublicKey
      if (old !== undefined && bare(old) !== bare(key) && !o.replace)
        throw usage('usage_invalid', `${file} already trusts another enclave receipt key (${String(old)}); the host's is ${key}`, 'Another key means another enclave signs the receipts (a new pair, a moved wallet, or a host you should not trust): check why, then pass --replace.')
      const changed = bare(old) !== bare(key)
      if (changed) {
        // Written beside the file, then renamed over it: an interrupted write never leaves a half key file.
        const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
        writeFileSync(tmp, `${JSON.stringify({ ...raw, receiptPublicKey: key }, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
        renameSync(tmp, file)
      }
      printResult(!!o.json, { keyFile: file, receiptPublicKey: key, changed }, () =>
        changed ? `${file} now trusts enclave receipt key ${key}\nthe agent SDK checks every receipt under it` : `${file} already trusts enclave receipt key ${key}`,
      )
    }))
  walletOpt(common(agent.command('list').description('agents on a wallet'))).action(action(async (o: Common & { wallet: string }) => {
    const w = await client(o).wallet(checkWallet(o.wallet))
    printResult(!!o.json, w.agents, () =>
      w.agents.length === 0
        ? 'no agents'
        : w.agents.map((a) => `${a.agentId}  ${a.label || '-'}  ${a.status}${a.frozen ? '  FROZEN' : ''}  policy ${a.policy ? `v${a.policy.version}` : 'none'}`).join('\n'),
    )
  }))
  agentOpt(walletOpt(common(agent.command('revoke').description('revoke an agent (permanent; asks to confirm, or --yes)'))))
    .option('-y, --yes', 'do not ask: revoke now (needed when not on a terminal)')
    .action(
    action(async (o: Common & { wallet: string; agent: string; yes?: boolean }) => {
      checkWallet(o.wallet)
      if (!o.yes) {
        const what = `Revoke agent ${o.agent} on wallet ${o.wallet} for good? Its key will never sign again (freeze it instead to pause: bursar owner agent freeze).`
        if (!process.stdin.isTTY) throw usage('confirmation_required', `${what} Not on a terminal, so nothing was done`, 'Pass --yes to revoke without asking.')
        if (!(await confirm(`${what} [y/N] `))) {
          printResult(!!o.json, { revoked: false }, () => 'not revoked')
          return
        }
      }
      const r = await client(o).act('RevokeAgent', o.wallet, { agentId: o.agent })
      printAct(!!o.json, r, () => `agent ${o.agent} revoked`)
    }),
  )
  for (const frozen of [true, false]) {
    agentOpt(walletOpt(common(agent.command(frozen ? 'freeze' : 'unfreeze').description(frozen ? 'stop an agent signing' : 'let a frozen agent sign again')))).action(
      action(async (o: Common & { wallet: string; agent: string }) => {
        const r = await client(o).act('FreezeAgent', checkWallet(o.wallet), { agentId: o.agent, frozen })
        printAct(!!o.json, r, () => `agent ${o.agent} ${frozen ? 'frozen' : 'unfrozen'}`)
      }),
    )
  }

  const policy = owner.command('policy').description('policies')
  agentOpt(walletOpt(common(policy.command('set').description('sign and install a policy (YAML or JSON); wallet and agent come from the flags'))))
    .argument('<file>', 'policy file')
    .action(action(async (file: string, o: Common & { wallet: string; agent: string }) => {
      const { policy: p, warnings } = readPolicyFile({ file, wallet: checkWallet(o.wallet), agentId: o.agent })
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
      if (p.expiresAt !== undefined && p.expiresAt <= Date.now()) {
        throw usage(
          'policy_expired',
          `${file} expired at ${new Date(p.expiresAt).toISOString()} (expiresAt ${p.expiresAt}): installed, it would refuse every request`,
          `Set a later expiresAt (ms since the epoch, e.g. ${Date.now() + 365 * 86_400_000} for a year from now) or remove it; to stop the agent use \`bursar owner agent freeze\`.`,
        )
      }
      const c = client(o)
      const installed = findAgent(await c.wallet(o.wallet), o.agent).policy
      if (installed && installed.version >= p.version) {
        throw usage('policy_version_not_newer', `${file} has version ${p.version}; the installed policy is version ${installed.version}`, `Set \`version: ${installed.version + 1}\` in ${file}.`)
      }
      const hash = policyHash(p)
      const r = await c.act('SetPolicy', o.wallet, { agentId: o.agent, version: String(p.version), policyHash: hash }, JSON.stringify(p))
      printAct(!!o.json, r, () => `policy v${p.version} installed for ${o.agent}\nhash ${hash}`)
    }))
  agentOpt(walletOpt(common(policy.command('revoke').description('revoke the agent policy: it signs nothing until you set a newer one')))).action(
    action(async (o: Common & { wallet: string; agent: string }) => {
      const r = await client(o).act('RevokePolicy', o.wallet, { agentId: o.agent })
      printAct(!!o.json, r, () => `policy of ${o.agent} revoked; set a newer version to let it sign again`)
    }),
  )
  agentOpt(walletOpt(common(policy.command('show').description('show the installed policy')))).action(
    action(async (o: Common & { wallet: string; agent: string }) => {
      const a = findAgent(await client(o).wallet(checkWallet(o.wallet)), o.agent)
      if (!a.policy) throw usage('policy_not_set', `No policy for ${o.agent} on ${o.wallet}`, `Install one with \`bursar owner policy set --wallet ${o.wallet} --agent ${o.agent} FILE\`.`)
      const pol = a.policy
      const p = JSON.parse(pol.json)
      printResult(!!o.json, { version: pol.version, hash: pol.hash, policy: p }, () => `# version ${pol.version}  hash ${pol.hash}\n${YAML.stringify(p)}`)
    }),
  )

  const pending = owner.command('pending').description('out-of-policy requests waiting for you')
  common(pending.command('list').description('open pending requests (all your wallets, or --wallet)'))
    .option('--wallet <address>', 'only this wallet')
    .action(action(async (o: Common & { wallet?: string }) => {
      const c0 = client(o)
      const ws = await myWallets(c0, o.wallet)
      const now = Date.now()
      const open = ws.flatMap((w) => w.pending.filter((p) => p.status === 'pending' && Number(p.expiresAt) > now).map((p): Record<string, unknown> => ({ wallet: w.address, ...p })))
      const why = open.length ? await pendingReasons(c0, ws) : new Map<string, PendingReason>()
      const rows = open.map((p) => {
        const w = ws.find((x) => x.address === p.wallet)!
        const amount = humanAmount(p.summary, w, String(p.agentId))
        const reason = why.get(String(p.pendingId))
        const row: Record<string, unknown> & { amountHuman?: string; why?: PendingReason } = { ...p }
        if (amount) row.amountHuman = amount
        if (reason) row.why = reason
        return row
      })
      printResult(!!o.json, rows, () =>
        rows.length
          ? rows
              .map((p) => {
                const what = describeSummary(p.summary)
                const head = `${String(p.pendingId)}  ${p.amountHuman ?? '(amount: see content)'}  agent ${String(p.agentId)}  wallet ${String(p.wallet)}  expires ${new Date(Number(p.expiresAt)).toISOString()}`
                const because = p.why
                  ? `\n    why pending: ${p.why.rule ? `outside ${p.why.rule}, the closest allow rule, whose onViolation sends it to you` : errorMeaning(p.why.code) ?? String(p.why.code)}`
                    + `${p.why.reason ? `\n    agent's reason: ${printable(p.why.reason)}` : ''}${p.why.resourceUrl ? `\n    resource: ${printable(p.why.resourceUrl)}` : ''}`
                  : ''
                return `${head}${because}\n    ${what}\n    approve: bursar owner approve ${String(p.pendingId)}   reject: bursar owner reject ${String(p.pendingId)}`
              })
              .join('\n')
          : 'nothing pending',
      )
    }))
  for (const approve of [true, false]) {
    common(owner.command(approve ? 'approve' : 'reject').description(approve ? 'approve a pending request (used once)' : 'reject a pending request'))
      .argument('<pendingId>')
      .option('--wallet <address>', 'the wallet (default: found among your wallets)')
      .action(action(async (id: string, o: Common & { wallet?: string }) => {
        const c = client(o)
        const w = (await myWallets(c, o.wallet)).find((x) => x.pending.some((p) => p.pendingId === id))
        if (!w) throw usage('pending_not_found', `No pending request ${id} on ${o.wallet ?? 'your wallets'}`, '`bursar owner pending list` shows what is open.')
        const p = w.pending.find((x) => x.pendingId === id)!
        if (p.status !== 'pending') {
          throw usage('pending_already_resolved', `${id} is already ${String(p.status)}: nothing to ${approve ? 'approve' : 'reject'}`, p.status === 'rejected' ? 'The agent must ask again (a new pending request) if the purchase is still wanted.' : '`bursar owner pending list` shows what is open.')
        }
        if (Number(p.expiresAt) <= Date.now()) {
          throw usage('pending_expired', `${id} expired at ${new Date(Number(p.expiresAt)).toISOString()} before it was decided`, 'The agent must ask again; the new request shows in `bursar owner pending list`.')
        }
        // The signature commits to the digest of the purchase shown below (checked against what the host serves).
        const r = await c.resolvePending(w.address, id, approve)
        const what = describeSummary(r.summary)
        printAct(!!o.json, r, () => `${id} ${approve ? 'approved' : 'rejected'}: ${what}${approve ? '\nthe agent can retry the same request now (once)' : ''}`)
      }))
  }

  const budget = owner.command('budget').description('agent budgets')
  agentOpt(walletOpt(common(budget.command('credit').description('give budget back in the current windows (e.g. an authorization that expired unsettled); signed by you'))))
    .requiredOption('--chain <id>', 'chain id')
    .requiredOption('--asset <address>', 'token contract, or native (the chain\'s coin)')
    .requiredOption('--amount <baseUnits>', 'amount in base units')
    .action(action(async (o: Common & { wallet: string; agent: string; chain: string; asset: string; amount: string }) => {
      const r = await client(o).act('CreditBudget', o.wallet, { agentId: o.agent, chainId: o.chain, asset: actAsset(o.asset), amount: o.amount })
      printAct(!!o.json, r, () => `credited ${o.amount} to ${o.agent}'s budget on chain ${o.chain}`)
    }))

  walletOpt(common(budget.command('release-locked').description('x402 batch-settlement: stop counting funds you saw leave a channel (withdrawn, refunded) as locked; signed by you')))
    .requiredOption('--channel <id>', 'the channel id (bytes32)')
    .requiredOption('--amount <baseUnits>', 'amount in base units, at most what is still locked in the channel')
    .action(action(async (o: Common & { wallet: string; channel: string; amount: string }) => {
      const r = await client(o).act('ReleaseLocked', o.wallet, { channelId: o.channel, amount: o.amount })
      printResult(!!o.json, r, () => `released ${o.amount} locked in channel ${o.channel}`)
    }))

  const permit = owner.command('permit').description('single-use spend permits')
  agentOpt(walletOpt(common(permit.command('issue').description('issue an amount- and merchant-locked, expiring, single-use permit'))))
    .requiredOption('--chain <id>', 'chain id')
    .requiredOption('--asset <address>', 'token contract, or native (the chain\'s coin)')
    .requiredOption('--amount <baseUnits>', 'maximum amount in base units (1000000 = 1 USDC)')
    .option('--pay-to <address>', 'lock to this pay-to')
    .option('--resource-host <host>', 'lock to this x402 resource host (advisory: prefer --pay-to)', '')
    .option('--expires-in <seconds>', 'lifetime', '3600')
    .option('--id <permitId>', 'permit id (default: random pmt_…)')
    .option('--exceed-caps', 'let this permit go beyond the wallet caps')
    .action(action(async (o: Common & Record<string, string> & { exceedCaps?: boolean }) => {
      if (!o.payTo && !o.resourceHost) throw usage('usage_invalid', 'A permit must be locked to a merchant', 'Pass --pay-to 0x… (or --resource-host).')
      const secs = Number(o.expiresIn)
      if (!Number.isInteger(secs) || secs <= 0) throw usage('usage_invalid', `--expires-in ${o.expiresIn} is not a positive number of seconds`, 'E.g. --expires-in 3600.')
      const fields = {
        wallet: checkWallet(o.wallet!),
        agentId: o.agent,
        permitId: o.id ?? `pmt_${randomBytes(8).toString('hex')}`,
        chainId: o.chain,
        asset: actAsset(o.asset),
        amount: o.amount,
        payTo: o.payTo ?? ZERO,
        host: o.resourceHost,
        expiresAt: String(Date.now() + secs * 1000),
        exceedCaps: !!o.exceedCaps,
        seq: '1',
      }
      const flag: Record<string, string> = { chainId: '--chain', asset: '--asset', amount: '--amount', payTo: '--pay-to', host: '--resource-host', agentId: '--agent', permitId: '--id' }
      const checked = OwnerActMessageSchemas.IssuePermit.safeParse(fields)
      if (!checked.success) {
        const bad = checked.error.issues.map((i) => String(i.path[0]))
        throw usage('usage_invalid', `Invalid ${bad.map((k) => flag[k] ?? k).join(', ')}`, 'Chain ids and amounts are decimal integers (base units); addresses are 0x + 40 hex digits.')
      }
      const { wallet: w, seq: _s, ...msg } = fields
      const r = await client(o).act('IssuePermit', w, msg)
      const lock = o.payTo ? `pay-to ${o.payTo}` : `host ${o.resourceHost}`
      printAct(!!o.json, { ...r, permitId: fields.permitId, expiresAt: Number(fields.expiresAt) }, () =>
        `permit issued: ${fields.permitId}\n${o.amount} of ${o.asset} on chain ${o.chain}, locked to ${lock}, expires ${new Date(Number(fields.expiresAt)).toISOString()}`,
      )
    }))

  const resync = action(async (o: Common & { wallet: string }) => {
    const r = await client(o).resync(checkWallet(o.wallet))
    printAct(!!o.json, r, () => `wallet ${o.wallet} resynced at seq ${r.ownerSeq}: the enclave signs for it again with the state it has.\nrepeat any act it lost (revoke, freeze, policy) now`)
  })
  walletOpt(common(wallet.command('resync').description('after a detected rollback: accept the enclave state and continue from your newest seq'))).action(resync)
  walletOpt(common(owner.command('resync').description('same as `owner wallet resync`'))).action(resync)
  return owner
}
