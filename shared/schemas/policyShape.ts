import * as z from 'zod'
import { BaseError } from '../errors/base.js'
import { ACTION_KINDS, ActionKindSchema } from './decodedAction.js'
import { TokenRegistryEntrySchema } from './tokenRegistry.js'

/**
 * The shape of an owner-signed policy (issue 12, diet36: policy.ts adds the cross-field rules to it; the signer
 * re-reads its stored policies by this shape alone, see parseStoredPolicy). An owner-signed policy binds one agent to one wallet. Parsing is the
 * identity on valid input (no defaults, no transforms, no coercion), so the
 * hash of the parsed object equals the hash the owner computed and signed.
 * Default is deny: an action is allowed only by an allow rule (or a
 * pre-approval, an owner-approved pending request, or a spend permit), and any
 * matching deny rule wins over everything.
 */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte hex address')
const amount = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a base-unit integer as a decimal string')
const chainId = z.number().int().positive()
const ms = z.number().int().nonnegative().max(8.64e15)
const id = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, 'expected 1-64 chars [a-zA-Z0-9_.-]')
const hostPattern = z
  .string()
  .max(253)
  .regex(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'expected a lowercase host name, optionally prefixed by *.')

/** A token contract address, or `native` for the chain's native coin. */
export const AssetRefSchema = z.union([address, z.literal('native')])


/** `{ in: [...] }` = the value must be listed; `{ notIn: [...] }` = it must not be. */
function setOf<T extends z.ZodType>(item: T) {
  return z.union([
    z.strictObject({ in: z.array(item).min(1).max(1000) }),
    z.strictObject({ notIn: z.array(item).min(1).max(1000) }),
  ])
}
export const AddressSetSchema = setOf(address)
export const ChainSetSchema = setOf(chainId)
export const HostSetSchema = setOf(hostPattern)
export const SelectorSetSchema = setOf(z.string().regex(/^0x[0-9a-fA-F]{8}$/))

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'expected HH:MM (00:00-24:00)')
const timeZone = z.string().refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin')

/** Local time window: on these weekdays, from start (inclusive) to end (exclusive). */
export const TimeWindowSchema = z
  .strictObject({
    days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1).max(7),
    start: hhmm,
    end: hhmm,
    timeZone: timeZone.optional(),
  })
  .refine((w) => w.start < w.end, { message: 'start must be before end (split overnight windows in two)', path: ['end'] })
export type TimeWindow = z.infer<typeof TimeWindowSchema>

/** Spend limits for one (chain, asset): per transaction, rolling 24 h, calendar day in the policy time zone. */
export const CapSchema = z
  .strictObject({
    chainId,
    asset: AssetRefSchema,
    perTx: amount.optional(),
    rolling24h: amount.optional(),
    calendarDay: amount.optional(),
  })
  .refine((c) => c.perTx !== undefined || c.rolling24h !== undefined || c.calendarDay !== undefined, {
    message: 'a cap needs at least one of perTx, rolling24h, calendarDay',
  })
export type Cap = z.infer<typeof CapSchema>

/** Matches EIP-712 typed data: every field given must equal the decoded domain; primaryType must be listed. */
export const TypedDataMatcherSchema = z.strictObject({
  domainName: z.string().max(128).optional(),
  domainVersion: z.string().max(32).optional(),
  verifyingContract: address.optional(),
  chainId: chainId.optional(),
  primaryTypes: z.array(z.string().min(1).max(128)).min(1).max(64),
})
export type TypedDataMatcher = z.infer<typeof TypedDataMatcherSchema>

/** Predicates shared by allow and deny rules; a rule matches when every predicate it has holds. */
const predicates = {
  id,
  description: z.string().max(280).optional(),
  chains: ChainSetSchema.optional(),
  /** Token contracts (eip3009 / erc20_* `asset`). */
  assets: AddressSetSchema.optional(),
  /** Recipients (eip3009 / erc20_transfer / native_transfer `payTo`). */
  payTo: AddressSetSchema.optional(),
  /** x402 resource hosts, from context.resourceUrl (advisory: reported by the agent's SDK). */
  hosts: HostSetSchema.optional(),
  /** erc20_approve spenders. */
  spenders: AddressSetSchema.optional(),
  /** contract_call targets. */
  contracts: AddressSetSchema.optional(),
  /** contract_call 4-byte selectors. */
  selectors: SelectorSetSchema.optional(),
  /** typed_data: matches if any matcher matches. */
  typedData: z.array(TypedDataMatcherSchema).min(1).max(64).optional(),
  /** Matches only inside one of these local time windows. */
  timeWindows: z.array(TimeWindowSchema).min(1).max(32).optional(),
}

export const AllowRuleSchema = z.strictObject({
  ...predicates,
  effect: z.literal('allow'),
  kinds: z.array(ActionKindSchema).min(1).max(ACTION_KINDS.length),
  /** raw_message: longest message (bytes) allowed. */
  maxMessageLength: z.number().int().nonnegative().max(1 << 20).optional(),
  /** eip3009: validBefore − now must be ≤ this many seconds (and validAfter ≤ now). */
  maxValiditySeconds: z.number().int().positive().max(7 * 86400).optional(),
  /** Rule-level caps (on the agent's totals per chain+asset); narrower than `budgets`. */
  caps: z.array(CapSchema).max(64).optional(),
  /** What happens when this rule is the closest match but fails: deny (default) or ask the owner. */
  onViolation: z.enum(['deny', 'pending']).optional(),
})

export const DenyRuleSchema = z.strictObject({ ...predicates, effect: z.literal('deny'), kinds: z.array(ActionKindSchema).min(1).max(ACTION_KINDS.length).optional() })

export const PolicyRuleSchema = z.discriminatedUnion('effect', [AllowRuleSchema, DenyRuleSchema])
export type PolicyRule = z.infer<typeof PolicyRuleSchema>

/** An offline pre-approval: a recurring payment pattern the owner authorized in advance (no waiting). */
export const PreApprovalSchema = z
  .strictObject({
    id,
    description: z.string().max(280).optional(),
    kinds: z.array(z.enum(['eip3009', 'erc20_transfer', 'native_transfer'])).min(1).max(3),
    chainId,
    asset: AssetRefSchema,
    payTo: address.optional(),
    host: hostPattern.refine((h) => !h.startsWith('*.'), 'pre-approval hosts are exact').optional(),
    maxAmountPerTx: amount,
    /** Rolling 24 h limits on what this pre-approval alone allowed. */
    maxCountPerDay: z.number().int().positive().max(1_000_000).optional(),
    maxAmountPerDay: amount.optional(),
    expiresAt: ms.optional(),
  })
  .refine((p) => (p.payTo === undefined) !== (p.host === undefined), {
    message: 'a pre-approval is locked to exactly one of payTo or host',
  })
export type PreApproval = z.infer<typeof PreApprovalSchema>

export const RiskControlsSchema = z.strictObject({
  /** Freeze when last hour's spend > max(multiplierPct/100 × average of the previous baselineHours hours, minimum). */
  spendSpike: z
    .array(
      z.strictObject({
        chainId,
        asset: AssetRefSchema,
        multiplierPct: z.number().int().min(100).max(100_000),
        baselineHours: z.number().int().min(1).max(23),
        minimum: amount,
      }),
    )
    .max(16)
    .optional(),
  /** Freeze after `count` denials within `windowMinutes`. */
  denialBurst: z
    .strictObject({ count: z.number().int().min(1).max(10_000), windowMinutes: z.number().int().min(1).max(1440) })
    .optional(),
})

/** Every field of a policy, each with its own constraints; PolicySchema (policy.ts) is this plus the cross-field rules. */
export const PolicyShapeSchema = z
  .strictObject({
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    wallet: address,
    agentId: z.string().regex(/^agt_[0-9a-f]{40}$/),
    description: z.string().max(1000).optional(),
    timeZone,
    /** Milliseconds since the epoch; at or after it every request is denied. */
    expiresAt: ms.optional(),
    /** The token registry: an ERC-20 asset not listed here is refused. */
    tokens: z.array(TokenRegistryEntrySchema).max(64),
    /** x402 facilitators that may settle an `upto` authorization (the witness's facilitator) or capture an `auth_capture` one (its operator); absent = none. */
    facilitators: z.array(address).max(64).optional(),
    /** x402 escrow contracts batch-settlement deposits and vouchers and auth-capture authorizations may go through; absent = none. */
    escrows: z.array(address).max(64).optional(),
    /**
     * Budget for funds locked in escrow (deposited and not yet promised by a voucher), per chain+asset: at most
     * `perChannel` in one channel and `total` over all of the wallet's channels. A deposit in an asset not listed is refused.
     */
    lockedFunds: z.array(z.strictObject({ chainId, asset: address, perChannel: amount.optional(), total: amount.optional() })).max(64).optional(),
    /** Hard ceilings per chain+asset applied to every spend (except owner approvals and exceedCaps permits). */
    budgets: z.array(CapSchema).max(64),
    /** Ordered rules: any matching deny wins; otherwise the first allow rule that passes. */
    rules: z.array(PolicyRuleSchema).max(128),
    velocity: z
      .strictObject({ perMinute: z.number().int().positive().max(10_000).optional(), perHour: z.number().int().positive().max(10_000).optional() })
      .optional(),
    preApprovals: z.array(PreApprovalSchema).max(64).optional(),
    /** How long a pending request (and its approval) lives; default 900 s. */
    pendingTtlSeconds: z.number().int().min(30).max(7 * 86400).optional(),
    risk: RiskControlsSchema.optional(),
  })
export type Policy = z.infer<typeof PolicyShapeSchema>

function isTimeZone(tz: string): boolean {
  if (tz.length > 64) return false
  // Issue 18 (mem35): 'UTC' without ICU. Building any Intl.DateTimeFormat reads ~4.7 MB of node's ICU data (file-backed pages in the enclave's VmRSS).
  if (tz === 'UTC') return true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export class PolicyInvalidError extends BaseError {
  constructor(issues: string[]) {
    super('policy_invalid', 'Policy is invalid', { metaMessages: issues })
  }
}

/** Parses JSON (text or value) with a strict schema; throws PolicyInvalidError listing every issue. */
export function parseWith<T>(schema: z.ZodType<T>, json: unknown): T {
  let value = json
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json)
    } catch (e) {
      throw new PolicyInvalidError([`(root): not JSON: ${(e as Error).message}`])
    }
  }
  const r = schema.safeParse(value)
  if (r.success) return r.data
  throw new PolicyInvalidError(r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`))
}

/**
 * SECURITY (issue 12, diet36): a policy the signer holds came from a governance decision under the link key's MAC
 * (governance parsed it whole, PolicySchema, and checked the owners' signature of its hash) or from the signer's own
 * sealed state. The signer re-reads it by its shape: every field's type and bounds, which the evaluator relies on
 * (decimal amounts, addresses, windows, time zones). The cross-field rules (no duplicate rule, token, budget or
 * pre-approval ids; typed_data allowed only with matchers) are governance's install check: a policy breaking one
 * reaches the signer only if governance installs it, and governance decides which policy is installed anyway. Read
 * here, such a policy is evaluated as written: the first of duplicates decides, typed data without matchers is denied
 * (shared/schemas/policyShape.test.ts).
 */
export function parseStoredPolicy(json: unknown): Policy {
  return parseWith(PolicyShapeSchema, json)
}
