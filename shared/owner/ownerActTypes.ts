import { z } from 'zod'

/**
 * Owner acts: EIP-712 messages signed by the owner's EVM key. The enclave
 * rebuilds the typed data from these fixed types (never from client-sent
 * types) and checks the signature. Every act on an existing wallet carries
 * `seq` = the wallet's owner sequence + 1: a lower seq is stale/replayed, a
 * higher one proves the enclave was handed a rolled-back state.
 */
export const OWNER_DOMAIN = { name: 'bursar', version: '1' } as const

const wallet = { name: 'wallet', type: 'address' } as const
const agentId = { name: 'agentId', type: 'string' } as const
const seq = { name: 'seq', type: 'uint64' } as const

export const OWNER_ACT_TYPES = {
  CreateWallet: [
    { name: 'owner', type: 'address' },
    { name: 'label', type: 'string' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
  RegisterAgent: [wallet, agentId, { name: 'agentPublicKey', type: 'bytes' }, { name: 'label', type: 'string' }, seq],
  SetPolicy: [wallet, agentId, { name: 'version', type: 'uint64' }, { name: 'policyHash', type: 'bytes32' }, seq],
  RevokeAgent: [wallet, agentId, seq],
  RevokePolicy: [wallet, agentId, seq],
  FreezeAgent: [wallet, agentId, { name: 'frozen', type: 'bool' }, seq],
  ResolvePending: [
    wallet,
    { name: 'pendingId', type: 'string' },
    /** SHA-256 of the approved purchase's summary (shared/owner/approvalSummary.ts): binds the signature to it. */
    { name: 'digest', type: 'bytes32' },
    { name: 'approve', type: 'bool' },
    seq,
  ],
  IssuePermit: [
    wallet,
    agentId,
    { name: 'permitId', type: 'string' },
    { name: 'chainId', type: 'uint256' },
    { name: 'asset', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'payTo', type: 'address' },
    { name: 'host', type: 'string' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'exceedCaps', type: 'bool' },
    seq,
  ],
  CreditBudget: [
    wallet,
    agentId,
    { name: 'chainId', type: 'uint256' },
    { name: 'asset', type: 'address' },
    { name: 'amount', type: 'uint256' },
    seq,
  ],
  Resync: [wallet, seq],
} as const

export type OwnerActType = keyof typeof OWNER_ACT_TYPES

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/)
const agent = z.string().regex(/^agt_[0-9a-f]{40}$/)

/** Message schemas (JSON form: uint64/uint256 as decimal strings). */
export const OwnerActMessageSchemas = {
  CreateWallet: z
    .object({ owner: address, label: z.string().max(64), nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/), issuedAt: uint })
    .strict(),
  RegisterAgent: z
    .object({
      wallet: address,
      agentId: agent,
      agentPublicKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
      label: z.string().max(64),
      seq: uint,
    })
    .strict(),
  SetPolicy: z
    .object({ wallet: address, agentId: agent, version: uint, policyHash: z.string().regex(/^0x[0-9a-f]{64}$/), seq: uint })
    .strict(),
  RevokeAgent: z.object({ wallet: address, agentId: agent, seq: uint }).strict(),
  RevokePolicy: z.object({ wallet: address, agentId: agent, seq: uint }).strict(),
  FreezeAgent: z.object({ wallet: address, agentId: agent, frozen: z.boolean(), seq: uint }).strict(),
  ResolvePending: z
    .object({ wallet: address, pendingId: z.string().max(80), digest: z.string().regex(/^0x[0-9a-fA-F]{64}$/), approve: z.boolean(), seq: uint })
    .strict(),
  IssuePermit: z
    .object({
      wallet: address,
      agentId: agent,
      permitId: z.string().min(1).max(80),
      chainId: uint,
      asset: address,
      amount: uint,
      payTo: address,
      host: z.string().max(253),
      expiresAt: uint,
      exceedCaps: z.boolean(),
      seq: uint,
    })
    .strict(),
  CreditBudget: z
    .object({ wallet: address, agentId: agent, chainId: uint, asset: address, amount: uint, seq: uint })
    .strict(),
  Resync: z.object({ wallet: address, seq: uint }).strict(),
} as const satisfies Record<OwnerActType, z.ZodType>

export function isOwnerActType(t: string): t is OwnerActType {
  return Object.hasOwn(OWNER_ACT_TYPES, t)
}
