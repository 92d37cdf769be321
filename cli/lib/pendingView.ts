/**
 * What `bursar owner pending list` adds to the enclave's pending summary: the amount in the token's own units (from
 * the agent's installed policy registry) and why the request is pending (the audit entry that created it: the code,
 * the rule that fell short, the agent's stated reason). Read-only, best effort: a host that does not serve the audit
 * log leaves the reason out, never the request.
 */
import { createInterface } from 'node:readline/promises'
import { ERROR_CODES, isErrorCode } from '../../shared/errors/errorCodes.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import type { OwnerClient } from './OwnerClient.js'

export type PendingReason = { code: string | null; rule: string | null; reason: string | null; resourceUrl: string | null }

export function errorMeaning(code: string | null | undefined): string | undefined {
  return code && isErrorCode(code) ? ERROR_CODES[code].meaning : undefined
}

/** `12.5 USDC` for the summary's action, using the decimals and symbol of the agent's policy registry; else undefined. */
export function humanAmount(summary: unknown, wallet: WalletInfo, agentId: string): string | undefined {
  const action = (summary as { action?: { amount?: unknown; asset?: unknown; chainId?: unknown } } | null)?.action
  if (!action || typeof action.amount !== 'string' || typeof action.asset !== 'string') return undefined
  const policyJson = wallet.agents.find((a) => a.agentId === agentId)?.policy?.json
  if (!policyJson) return undefined
  const tokens = (JSON.parse(policyJson) as { tokens?: Array<{ chainId: number; asset: string; decimals?: number; symbol?: string; name?: string }> }).tokens ?? []
  const t = tokens.find((x) => x.asset.toLowerCase() === String(action.asset).toLowerCase() && x.chainId === action.chainId)
  if (!t || t.decimals === undefined) return undefined
  return `${formatUnits(BigInt(action.amount), t.decimals)} ${t.symbol ?? t.name ?? 'tokens'}`
}

function formatUnits(v: bigint, decimals: number): string {
  const base = 10n ** BigInt(decimals)
  const frac = (v % base).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${v / base}${frac ? `.${frac}` : ''}`
}

/** pendingId → why it is pending, from the owner's audit view (an owner read token for the owner's own wallets). */
export async function pendingReasons(client: OwnerClient, wallets: WalletInfo[]): Promise<Map<string, PendingReason>> {
  const out = new Map<string, PendingReason>()
  try {
    const authorization = await client.readAuthorization()
    for (const w of wallets) {
      if (!w.pending.some((p) => p.status === 'pending')) continue
      // audit39: every page (the host reads at most its row budget per query; `next` continues).
      for (let after = -1; ; ) {
        const qs = new URLSearchParams({ after: String(after), limit: '1000', wallet: w.address, verdict: 'pending' })
        const res = await fetch(`${client.host}/v1/audit/entries?${qs}`, { headers: { authorization } })
        if (!res.ok) break
        const page = (await res.json()) as { next?: number | null; entries?: Array<{ code: string | null; rule: string | null; reason: string | null; resourceUrl?: string; ledger: unknown[] }> }
        for (const e of page.entries ?? []) {
          for (const ev of e.ledger) {
            const id = (ev as { type?: string; pendingId?: string }).pendingId
            if (id && !out.has(id)) out.set(id, { code: e.code, rule: e.rule, reason: e.reason, resourceUrl: e.resourceUrl ?? null })
          }
        }
        if (typeof page.next !== 'number' || page.next <= after) break
        after = page.next
      }
    }
  } catch {
    // best effort: the list is still printed without reasons
  }
  return out
}

/** Asks a yes/no question on the terminal; only "y" or "yes" is yes. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}
