/**
 * What a proposal waiting for co-signatures would do, as the console shows it before the owner co-signs: the act's
 * fields and, for a policy act, the changed lines of its policy against the installed one. SECURITY: the host lists
 * proposals, so the shown message must hash to the listed act hash and the shown policy text to the message's
 * policyHash (what the wallet prompt shows is only that hash); otherwise the page says so and does not co-sign.
 */
import { isOwnerActType } from '../../shared/owner/ownerActTypes.js'
import { ownerActHash } from '../../shared/owner/ownerActHash.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'
import { policyHash } from '../../shared/schemas/policy.js'
import { type DiffLine, diffLines } from './policyDiff.js'

type Proposal = WalletInfo['proposals'][number]
export type ProposalDetail =
  | { ok: true; fields: [string, string][]; changes: DiffLine[] | null }
  | { ok: false; reason: string }

const pretty = (json: string) => JSON.stringify(JSON.parse(json), null, 2)

export function proposalDetail(w: WalletInfo, p: Proposal): ProposalDetail {
  let message: Record<string, unknown>
  try {
    message = JSON.parse(p.message) as Record<string, unknown>
    if (!isOwnerActType(p.act) || ownerActHash(p.act, message) !== p.actHash.toLowerCase()) throw new Error('hash')
    if (String(message.wallet).toLowerCase() !== w.address.toLowerCase()) throw new Error('wallet')
    if (p.policy !== null && policyHash(JSON.parse(p.policy)).toLowerCase() !== String(message.policyHash).toLowerCase()) throw new Error('policy')
  } catch {
    return { ok: false, reason: 'the host lists content that does not match this act hash: do not co-sign' }
  }
  const fields = Object.entries(message)
    .filter(([k]) => k !== 'wallet' && k !== 'seq')
    .map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])
  if (p.policy === null) return { ok: true, fields, changes: null }
  // The installed policy it replaces: the agent's (SetPolicy) or the wallet's (SetWalletPolicy), when its text hashes right.
  const agentId = typeof message.agentId === 'string' ? message.agentId : null
  const cur = agentId ? w.agents.find((a) => a.agentId === agentId)?.policy : w.walletPolicy
  let before = ''
  try {
    if (cur && policyHash(JSON.parse(cur.json)).toLowerCase() === cur.hash.toLowerCase()) before = pretty(cur.json)
  } catch {}
  return { ok: true, fields, changes: diffLines(before, pretty(p.policy)).filter((d) => d.op !== ' ') }
}
