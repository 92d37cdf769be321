/**
 * `bursar demo`: the first thing a newcomer runs. Starts a local chain with
 * real USDC (Circle's FiatTokenV2_2 on anvil), a paid API protected by x402
 * (reference packages + reference facilitator), a bursar host + simulated
 * enclave, an owner, a wallet and an agent with a policy; pays a few calls
 * within the cap, hits the cap, shows the refusal and the audit of it.
 * `--scheme` picks what the API asks for: `exact` (EIP-3009, default),
 * `permit2` (exact via Permit2) or `upto` (a Permit2 maximum; the API settles
 * less). The Permit2 schemes put canonical Permit2 and bursar's test x402
 * proxies on the local chain.
 */
import { privateKeyToAccount } from 'viem/accounts'
import { createPayingFetch } from '../agent/createPayingFetch.js'
import { OwnerClient } from '../cli/lib/OwnerClient.js'
import { parseAuditJsonl } from '../shared/audit/exportFormats.js'
import { formatAuditEntry } from '../shared/audit/formatAuditEntry.js'
import { verifyAuditLog } from '../shared/audit/verifyAuditLog.js'
import { ensureBundles } from './buildEnclave.js'
import { deployFiatToken } from './devchain/deployFiatToken.js'
import { approvePermit2AsOwner, installX402Permit2 } from './devchain/installX402Permit2.js'
import { setupAgent } from './devchain/setupAgent.js'
import { startAnvil } from './devchain/startAnvil.js'
import { startPaidApi } from './devchain/startPaidApi.js'
import { startStack } from './lib/startStack.js'

const CHAIN = 84532
const PRICE = 10_000n // 0.01 USDC
/** upto: each call signs PRICE as its maximum and the API settles this much. */
const UPTO_CHARGE = 4_000n

export const DEMO_SCHEMES = ['exact', 'permit2', 'upto'] as const
export type DemoScheme = (typeof DEMO_SCHEMES)[number]

export async function runDemo(opts: { json?: boolean; host?: string; scheme?: DemoScheme } = {}): Promise<number> {
  const scheme = opts.scheme ?? 'exact'
  const out: Record<string, unknown> = { scheme, calls: [] as unknown[] }
  const say = (line: string) => opts.json || process.stdout.write(`${line}\n`)
  const usdc = (v: bigint) => `${(Number(v) / 1e6).toFixed(2)} USDC`
  say('▶ starting a local chain (anvil, chain id 84532) and deploying Circle FiatTokenV2_2 …')
  const anvil = await startAnvil({ chainId: CHAIN })
  const stops: Array<() => Promise<unknown>> = [() => anvil.stop()]
  try {
    const [deployer, admin, facilitator, ownerKey, merchantKey] = anvil.accounts
    const token = await deployFiatToken({ rpcUrl: anvil.rpcUrl, deployer: deployer!, admin: admin! })
    const merchant = privateKeyToAccount(merchantKey!).address
    const owner = privateKeyToAccount(ownerKey!)
    // Only a host the user named (--host / BURSAR_HOST_URL) is used; otherwise a temporary one is started, never
    // whatever happens to answer on port 8402.
    let host = opts.host
    // Reading the whole audit log takes the operator token: our own stack's, or the named host's from the environment.
    let auditToken = process.env.BURSAR_AUDIT_TOKEN
    if (host) {
      const ready = await fetch(`${host}/readyz`).then(
        async (r) => (r.ok ? ((await r.json().catch(() => null)) as { receiptPublicKey?: string } | null) : null),
        () => null,
      )
      if (!ready?.receiptPublicKey) {
        process.stderr.write(`✖ ${host} is not a ready bursar host (GET ${host}/readyz did not answer a bursar readiness document): start it (make sim) or drop --host / BURSAR_HOST_URL to let the demo start its own\n`)
        return 2
      }
      say(`▶ using the bursar host you named: ${host}`)
    } else {
      say('▶ starting bursar (host + simulated enclave, temporary data dir) …')
      await ensureBundles(() => say('▶ building the enclave and host bundles …'))
      const stack = await startStack()
      stops.push(() => stack.stop())
      host = stack.url
      auditToken = stack.auditToken
    }
    if (scheme !== 'exact') {
      await installX402Permit2({ rpcUrl: anvil.rpcUrl })
      say('▶ canonical Permit2 and the x402 exact/upto Permit2 proxies (bursar test contracts) placed on the chain')
    }
    const route =
      scheme === 'upto' ? { scheme: 'upto' as const, charge: UPTO_CHARGE } : scheme === 'permit2' ? { assetTransferMethod: 'permit2' as const } : {}
    const api = await startPaidApi({
      rpcUrl: anvil.rpcUrl,
      chain: anvil.chain,
      asset: token.address,
      payTo: merchant,
      price: PRICE,
      facilitatorKey: facilitator!,
      routes: { 'GET /paid': route },
    })
    stops.push(() => api.stop())
    say(
      scheme === 'upto'
        ? `▶ paid API (x402 v2, upto scheme: signs up to ${usdc(PRICE)}, settles ${usdc(UPTO_CHARGE)} per call): ${api.url}/paid`
        : `▶ paid API (x402 v2, exact scheme${scheme === 'permit2' ? ' via Permit2' : ''}, ${usdc(PRICE)} per call): ${api.url}/paid`,
    )

    const wallet = (await new OwnerClient(host, owner).createWallet('demo')).wallet
    await token.mint(wallet, 1_000_000n)
    say(`▶ owner ${owner.address} created wallet ${wallet} inside the enclave (funded with ${usdc(1_000_000n)})`)
    if (scheme !== 'exact') {
      await approvePermit2AsOwner({ rpcUrl: anvil.rpcUrl, token: token.address, owner: wallet })
      say('▶ the wallet approved Permit2 on USDC once (local chain: sent by impersonation)')
    }
    const { agentKey, policy } = await setupAgent({
      host,
      owner,
      wallet,
      label: 'demo agent',
      policy: {
        version: 1,
        timeZone: 'UTC',
        tokens: [{ chainId: CHAIN, asset: token.address, name: 'USD Coin', version: '2', decimals: 6 }],
        ...(scheme === 'upto' ? { facilitators: [api.facilitatorAddress] } : {}),
        budgets: [{ chainId: CHAIN, asset: token.address, perTx: '20000', rolling24h: '30000' }],
        rules: [
          {
            id: 'pay-apis',
            effect: 'allow',
            kinds: [scheme === 'upto' ? 'upto' : scheme === 'permit2' ? 'permit2_transfer' : 'eip3009'],
            payTo: { in: [merchant] },
            hosts: { in: ['127.0.0.1'] },
            maxValiditySeconds: 600,
          },
        ],
      },
    })
    say(`▶ agent ${agentKey.agentId} registered; owner-signed policy: ≤ ${usdc(20_000n)} per call, ≤ ${usdc(30_000n)} per 24 h, only to ${merchant}`)
    out.wallet = wallet
    out.agentId = agentKey.agentId
    out.policyVersion = policy.version

    const pay = createPayingFetch({ host, agentKey, wallet, reason: 'demo: fetch a paid report' })
    for (let i = 1; i <= 4; i++) {
      try {
        const res = await pay(`${api.url}/paid`)
        const paid = scheme === 'upto' ? `signed up to ${usdc(PRICE)} (counted), settled ${usdc(UPTO_CHARGE)}` : `paid ${usdc(PRICE)}`
        const line = `  call ${i}: HTTP ${res.status} — ${paid}, merchant balance ${usdc(await token.balanceOf(merchant))}`
        ;(out.calls as unknown[]).push({ call: i, status: res.status })
        say(line)
      } catch (err) {
        const e = err as { code?: string; shortMessage?: string; rule?: string; remaining?: string }
        ;(out.calls as unknown[]).push({ call: i, refused: e.code, remaining: e.remaining })
        say(`  call ${i}: REFUSED by the enclave — ${e.code}${e.remaining ? ` (remaining ${usdc(BigInt(e.remaining))})` : ''}; no payment header was sent`)
      }
    }
    const exportRes = await fetch(`${host}/v1/audit/export?format=jsonl`, { headers: auditToken ? { authorization: `Bearer ${auditToken}` } : {} })
    if (!exportRes.ok) {
      say(`\n▶ cannot read the audit log (HTTP ${exportRes.status}): set BURSAR_AUDIT_TOKEN to the host's operator token`)
      return 1
    }
    const jsonl = await exportRes.text()
    const log = parseAuditJsonl(jsonl)
    const ready = (await fetch(`${host}/readyz`).then((r) => r.json())) as { receiptPublicKey: string }
    const verdict = verifyAuditLog({ entries: log.entries, hashes: log.hashes, checkpoints: log.checkpoints, publicKey: ready.receiptPublicKey })
    say('\n▶ audit trail for this agent (hash-chained, checkpoints signed by the enclave):')
    for (const e of log.entries.filter((x) => x.agentId === agentKey.agentId)) say(`  ${formatAuditEntry(e)}`)
    say(`\n▶ audit chain verification: ${verdict.ok ? `OK, ${verdict.count} entries, head #${verdict.head.seq}` : `BROKEN at #${verdict.seq}: ${verdict.code}`}`)
    say(`  merchant settlements on chain: ${api.settlements.length}`)
    out.auditOk = verdict.ok
    out.settlements = api.settlements.length
    out.settled = api.settlements.map((x) => x.amount)
    if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return verdict.ok ? 0 : 1
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {})
  }
}
