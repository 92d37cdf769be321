// Scale-out test helpers: a cluster of host + simulated-enclave pairs on a throwaway PostgreSQL, one wallet and agent.
import pg from 'pg'
import type { Hex, LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { AgentKey } from '../../agent/loadAgentKey.js'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { setupAgent } from '../../scripts/devchain/setupAgent.js'
import type { ChildProcess } from 'node:child_process'
import { bounded, type Cluster, startCluster } from '../../scripts/lib/startCluster.js'
import type { AuditEntry } from '../../shared/audit/auditEntry.js'
import { type PolicyBody, waitAgentFloor } from './agentClient.js'
import { freshDatabase } from './postgres.js'

export type ClusterWithAgent = { cluster: Cluster; owner: LocalAccount; wallet: Hex; agentKey: AgentKey }

export async function clusterWithAgent(policy: PolicyBody, opts: { pairs?: number; env?: Record<string, string>; supervise?: boolean } = {}): Promise<ClusterWithAgent> {
  const databaseUrl = await freshDatabase()
  const cluster = await startCluster({ databaseUrl, pairs: opts.pairs ?? 3, supervise: opts.supervise ?? false, ...(opts.env ? { env: opts.env } : {}) })
  try {
    const owner = privateKeyToAccount(generatePrivateKey())
    // Through a standby on purpose: it forwards to the holder.
    const url = cluster.pairs[cluster.pairs.length - 1]!.url
    const { wallet } = await new OwnerClient(url, owner).createWallet('cluster')
    const { agentKey } = await setupAgent({ host: url, owner, wallet, policy })
    // Every enclave (standbys too) refuses requests issued before its start + 2 s: a takeover by the last-started
    // enclave must not catch requests from before then (docs/scale.md, "Failover").
    await waitAgentFloor()
    return { cluster, owner, wallet, agentKey }
  } catch (err) {
    await cluster.stop()
    throw err
  }
}

export type StoredEntry = AuditEntry & { storedEpoch: number | null }

/** Every audit entry in the cluster's PostgreSQL, in seq order, with the lease epoch that stored it (read directly, not through a host). */
export async function storedEntries(databaseUrl: string): Promise<StoredEntry[]> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    const r = await c.query<{ body: string; epoch: string | null }>('SELECT body, epoch FROM audit_entries ORDER BY seq')
    return r.rows.map((x) => ({ ...(JSON.parse(x.body) as AuditEntry), storedEpoch: x.epoch === null ? null : Number(x.epoch) }))
  } finally {
    await c.end()
  }
}

/** The exit code of a child process, waiting at most `ms` (a cluster test fails fast rather than hang). */
export function exitOf(c: ChildProcess, ms = 30_000): Promise<number | null> {
  const exited = c.exitCode !== null || c.signalCode !== null
  return bounded(exited ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', (code) => r(code))), ms, `pid ${c.pid} exiting`)
}

/** One query against the cluster's PostgreSQL (read directly, not through a host). */
export async function pgQuery<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    return (await c.query<T>(sql, args)).rows
  } finally {
    await c.end()
  }
}
