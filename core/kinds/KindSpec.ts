import type { ActionKind, ActionOf } from '../../shared/schemas/decodedAction.js'
import type { LedgerView } from '../state/stateTypes.js'

/** Why a spend lets someone take funds: all count against budgets when the signature leaves the enclave. */
export type SpendRole = 'transfer' | 'authorization' | 'allowance' | 'value' | 'fee'

/** One way a signature moves or exposes funds. Addresses lowercase; `native` is the chain's coin. */
export type Spend = {
  chainId: number
  asset: string
  amount: bigint
  /** Who receives or may pull the funds (payee, spender); null for fees. */
  to: string | null
  role: SpendRole
}

/** What policy rules read about an action. Every rule reads these facts; none switches on the kind. */
export type ActionFacts = {
  chainId: number | null
  /** Everything the signature lets someone take, fees included. */
  spends: Spend[]
  /** Token contracts moved or allowed (lowercase); each must be in the policy's token registry. */
  tokens: string[]
  /** Recipients of transfers, authorizations and native value (lowercase). */
  payees: string[]
  /** Allowance spenders (lowercase). */
  spenders: string[]
  /** x402 facilitators the signature lets settle (upto's witness; lowercase): each must be on the policy's allowlist. */
  facilitators: string[]
  /** x402 escrow contracts the signature commits funds through (batch-settlement; lowercase): each must be on the policy's `escrows`. */
  escrows: string[]
  /**
   * The batch-settlement channel the signature is for: `lock` is what a deposit locks in escrow, `total` a voucher's
   * running total and `signedBefore` the highest total signed for the channel before it (the voucher counts the increase).
   */
  channel: { id: string; chainId: number; asset: string; lock: bigint; total: bigint | null; signedBefore: bigint } | null
  /** The contract a transaction calls and its selector (calls that are not token or Permit2 actions). */
  contract: { to: string; selector: string } | null
  /** Unix seconds: from when and until when the signature is money (until null = no end: until mined or revoked). */
  validFrom: number | null
  validUntil: number | null
  /** EIP-712 domain and primary type, for typed-data matchers (generic typed data only). */
  typedData: { chainId: number | null; verifyingContract: string | null; domainName: string | null; domainVersion: string | null; primaryType: string } | null
  /** Personal message length in bytes. */
  messageLength: number | null
}

/**
 * What one action kind means. The table in kindTable.ts maps every kind to
 * one of these: a kind without an answer to every question does not compile.
 */
export type KindSpec<K extends ActionKind> = {
  /** One human line for the audit log and the owner. */
  describe: (a: ActionOf<K>) => string
  /** The facts policy reads: spends, counterparties, validity. */
  facts: (a: ActionOf<K>) => ActionFacts
  /**
   * Fields an owner approval does not bind: a retry after approval may change
   * only these (e.g. an x402 retry's fresh nonce and validity window); the
   * validity they set stays within the span the owner approved.
   */
  approvalFree: readonly Exclude<keyof ActionOf<K>, 'kind'>[]
  /**
   * For kinds whose meaning depends on what the enclave already signed (a batch voucher's increase): fills those
   * fields from the ledger. Runs in the writer, right before policy, so concurrent requests see each other.
   */
  bind?: (a: ActionOf<K>, ledger: LedgerView) => ActionOf<K>
}
