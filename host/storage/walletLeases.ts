/**
 * UNTRUSTED: per-wallet leases (issue 15 step 4, docs/scale.md "Per-wallet leases"). A host serves a wallet only
 * while it holds that wallet's row in `wallet_leases` (an expiring row with a monotonic epoch per wallet; every
 * takeover appended to `wallet_lease_history`). Hosts announce themselves in `cluster_hosts` (a heartbeat row that
 * expires like a lease), so every host computes the same placement (rendezvous hashing) over the live ones.
 *
 * Fencing: `bursar_fence_wallets` runs in the same statement (so the same transaction) as `bursar_persist`, before
 * it (a FROM subquery with a volatile function is evaluated first), and refuses the whole block (BL002, nothing
 * stored) unless every wallet the block names with something new (an entry or a wallet blob not stored yet) is
 * leased to this host at the epoch the host believes it holds, unexpired by the database's clock. It locks
 * those rows FOR SHARE, so a takeover of one of them waits for the in-flight persist, and every later persist of
 * the old holder sees the new epoch. A wallet with no row at all (never leased: a wallet this host's enclave just
 * created) is claimed by the persist that first names it (epoch 1): nobody else has its blob.
 *
 * These migrations are numbered from 1001 in `schema_migrations`, apart from the store's own (1, 2, …), so the two
 * lists grow independently.
 */
import type pg from 'pg'

/** `blobStored`: when a wallet blob of the block counts as stored already (it then needs no lease). */
const fenceWallets = (blobStored: string) => `FUNCTION bursar_fence_wallets(p_holder text, p_url text, p_ttl_ms bigint, p_chain text,
     e_seq bigint[], e_hash text[], e_wallet text[], s_wallet text[], s_version bigint[], p_wallets text[], p_epochs bigint[]) RETURNS text[] LANGUAGE plpgsql AS $fn$
   DECLARE need text[]; n int; bad text; claimed text[];
   BEGIN
     IF p_holder IS NULL THEN RETURN '{}'; END IF; -- not in per-wallet mode
     -- The wallets the block names that need the lease: those of entries not stored yet (catchUp re-sends stored
     -- ones, also of a wallet dropped and released since) and of wallet blobs not stored yet in this chain (a dropped wallet's final
     -- blob rides with every core until acknowledged).
     SELECT array_agg(DISTINCT lower(w)) INTO need FROM (
       SELECT x.w FROM unnest(e_seq, e_hash, e_wallet) AS x(s, h, w)
        WHERE x.w IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit_entries a WHERE a.chain = p_chain AND a.seq = x.s AND a.hash = x.h)
       UNION ALL
       SELECT x.w FROM unnest(s_wallet, s_version) AS x(w, v)
        WHERE x.w <> '' AND NOT EXISTS (SELECT 1 FROM snapshots t WHERE ${blobStored})) q;
     IF need IS NULL THEN RETURN '{}'; END IF;
     -- Epoch 0: a wallet this host's enclave created; claimed here unless anyone ever leased it (returned).
     WITH ins AS (
       INSERT INTO wallet_leases(wallet, holder, holder_url, epoch, expires_at, acquired_at)
         SELECT x.w, p_holder, p_url, 1, clock_timestamp() + p_ttl_ms * interval '1 millisecond', clock_timestamp()
           FROM unnest(p_wallets, p_epochs) AS x(w, e) WHERE x.e = 0 AND x.w = ANY(need)
         ON CONFLICT (wallet) DO NOTHING RETURNING wallet)
     SELECT coalesce(array_agg(wallet), '{}') INTO claimed FROM ins;
     SELECT count(*) INTO n FROM (
       SELECT 1 FROM wallet_leases l JOIN unnest(p_wallets, p_epochs) AS x(w, e) ON l.wallet = x.w
        WHERE x.w = ANY(need) AND l.holder = p_holder AND l.epoch = greatest(x.e, 1) AND l.expires_at > clock_timestamp()
        FOR SHARE OF l) s;
     IF n < cardinality(need) THEN
       SELECT string_agg(w, ',') INTO bad FROM unnest(need) AS u(w)
        WHERE NOT EXISTS (SELECT 1 FROM wallet_leases l JOIN unnest(p_wallets, p_epochs) AS x(w, e) ON l.wallet = x.w
                           WHERE x.w = u.w AND l.holder = p_holder AND l.epoch = greatest(x.e, 1) AND l.expires_at > clock_timestamp());
       RAISE EXCEPTION 'a wallet of this block is not leased to % at the epoch it carries', p_holder USING ERRCODE = 'BL002', DETAIL = coalesce(bad, '');
     END IF;
     RETURN claimed;
   END $fn$;`

export const WALLET_LEASE_MIGRATIONS: string[] = [
  `CREATE TABLE wallet_leases(wallet TEXT PRIMARY KEY, holder TEXT NOT NULL, holder_url TEXT NOT NULL, epoch BIGINT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL);
   CREATE INDEX wallet_leases_holder ON wallet_leases(holder);
   CREATE TABLE wallet_lease_history(wallet TEXT NOT NULL, epoch BIGINT NOT NULL, holder TEXT NOT NULL, holder_url TEXT NOT NULL,
     acquired_at TIMESTAMPTZ NOT NULL, previous_holder TEXT, previous_expired_at TIMESTAMPTZ, PRIMARY KEY(wallet, epoch));
   CREATE TABLE cluster_hosts(node TEXT PRIMARY KEY, url TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
   CREATE ${fenceWallets('t.wallet = x.w AND t.version = x.v')}`,
  // rt32a (staleHolderRestoresWalletBlobInOwnChain): a blob is stored already only in THIS chain. Blobs are keyed by
  // (chain, wallet, version): one of (wallet, version) stored by another chain's pair is a new row here, so a stale
  // holder's blob at the version the new holder stored went in without the lease.
  `CREATE OR REPLACE ${fenceWallets('t.chain = p_chain AND t.wallet = x.w AND t.version = x.v')}`,
]

export type WalletLease = { wallet: string; holder: string; url: string; epoch: number; expiresInMs: number }
export type ClusterHost = { node: string; url: string }

const MS = `(extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8`

/** Takes `wallet`'s lease if nobody holds it or the holder's lease expired (database clock); epoch + 1. Null if held. */
export async function acquireWalletLease(pool: pg.Pool, wallet: string, holder: string, url: string, ttlMs: number): Promise<WalletLease | null> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    const prev = await c.query<{ holder: string; expires_at: Date }>('SELECT holder, expires_at FROM wallet_leases WHERE wallet = $1 FOR UPDATE', [wallet])
    const r = await c.query<{ epoch: number; ms: number }>(
      `INSERT INTO wallet_leases(wallet, holder, holder_url, epoch, expires_at, acquired_at)
         VALUES ($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond', clock_timestamp())
       ON CONFLICT (wallet) DO UPDATE SET holder = EXCLUDED.holder, holder_url = EXCLUDED.holder_url, epoch = wallet_leases.epoch + 1,
         expires_at = EXCLUDED.expires_at, acquired_at = EXCLUDED.acquired_at
       WHERE wallet_leases.expires_at < clock_timestamp()
       RETURNING epoch, ${MS} AS ms`,
      [wallet, holder, url, ttlMs],
    )
    const row = r.rows[0]
    if (!row) {
      await c.query('ROLLBACK')
      return null
    }
    await c.query(
      `INSERT INTO wallet_lease_history(wallet, epoch, holder, holder_url, acquired_at, previous_holder, previous_expired_at)
         VALUES ($1, $2, $3, $4, clock_timestamp(), $5, $6)`,
      [wallet, row.epoch, holder, url, prev.rows[0]?.holder ?? null, prev.rows[0]?.expires_at ?? null],
    )
    await c.query('COMMIT')
    return { wallet, holder, url, epoch: row.epoch, expiresInMs: row.ms }
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    c.release()
  }
}

/**
 * One statement per tick for all of a host's leases: extends each (wallet, epoch) still held and unexpired, and the
 * host's heartbeat row. Returns the wallets renewed with their remaining ms; a held wallet missing from it is lost.
 */
export async function renewWalletLeases(pool: pg.Pool, holder: string, url: string, held: Array<{ wallet: string; epoch: number }>, ttlMs: number): Promise<Map<string, number>> {
  const r = await pool.query<{ wallet: string | null; ms: number }>(
    `WITH hb AS (
       INSERT INTO cluster_hosts(node, url, started_at, expires_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp() + $5 * interval '1 millisecond')
       ON CONFLICT (node) DO UPDATE SET url = EXCLUDED.url, expires_at = EXCLUDED.expires_at,
         started_at = CASE WHEN cluster_hosts.expires_at < clock_timestamp() THEN EXCLUDED.started_at ELSE cluster_hosts.started_at END
       RETURNING NULL::text AS wallet, 0::float8 AS ms),
     rn AS (
       UPDATE wallet_leases l SET expires_at = clock_timestamp() + $5 * interval '1 millisecond'
         FROM unnest($3::text[], $4::bigint[]) AS x(w, e)
        WHERE l.wallet = x.w AND l.epoch = x.e AND l.holder = $1 AND l.expires_at > clock_timestamp()
       RETURNING l.wallet, ${MS.replace('expires_at', 'l.expires_at')} AS ms)
     SELECT wallet, ms FROM rn UNION ALL SELECT wallet, ms FROM hb`,
    [holder, url, held.map((h) => h.wallet), held.map((h) => h.epoch), ttlMs],
  )
  return new Map(r.rows.flatMap((x) => (x.wallet === null ? [] : [[x.wallet, x.ms] as const])))
}

/** Gives a wallet's lease up at once (after the enclave dropped it): the next holder need not wait for it to expire. */
export async function releaseWalletLease(pool: pg.Pool, wallet: string, holder: string, epoch: number): Promise<boolean> {
  const r = await pool.query(
    'UPDATE wallet_leases SET expires_at = clock_timestamp() WHERE wallet = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()',
    [wallet, holder, epoch],
  )
  return (r.rowCount ?? 0) > 0
}

/** Takes this host out of placement at once (clean shutdown). */
export async function leaveCluster(pool: pg.Pool, node: string): Promise<void> {
  await pool.query('UPDATE cluster_hosts SET expires_at = clock_timestamp() WHERE node = $1', [node])
}

/**
 * What placement needs, in one round trip: the live hosts (heartbeat unexpired, with how long they have been up),
 * every lease row, and the wallets the store knows (each wallet that has a sealed blob).
 */
export async function clusterView(pool: pg.Pool): Promise<{ hosts: Array<ClusterHost & { upMs: number }>; leases: WalletLease[]; wallets: string[] }> {
  const r = await pool.query<{ kind: string; a: string; b: string | null; epoch: number | null; ms: number | null }>(
    `SELECT 'h' AS kind, node AS a, url AS b, NULL::bigint AS epoch, (extract(epoch FROM clock_timestamp() - started_at) * 1000)::float8 AS ms
       FROM cluster_hosts WHERE expires_at > clock_timestamp()
     UNION ALL SELECT 'l', wallet, holder || ' ' || holder_url, epoch, ${MS} FROM wallet_leases
     UNION ALL SELECT DISTINCT 'w', wallet, NULL, NULL::bigint, NULL::float8 FROM snapshots WHERE wallet <> ''`,
  )
  const hosts: Array<ClusterHost & { upMs: number }> = []
  const leases: WalletLease[] = []
  const wallets = new Set<string>()
  for (const x of r.rows) {
    if (x.kind === 'h') hosts.push({ node: x.a, url: x.b!, upMs: x.ms! })
    else if (x.kind === 'l') {
      const [holder, url] = x.b!.split(' ') as [string, string]
      leases.push({ wallet: x.a, holder, url, epoch: x.epoch!, expiresInMs: x.ms! })
      wallets.add(x.a)
    } else wallets.add(x.a.toLowerCase())
  }
  return { hosts, leases, wallets: [...wallets].sort() }
}

/** One wallet's lease row as it is now (forwarding a wallet not in the keeper's last view), or null if never leased. */
export async function walletLease(pool: pg.Pool, wallet: string): Promise<WalletLease | null> {
  const r = await pool.query<{ holder: string; holder_url: string; epoch: number; ms: number }>(
    `SELECT holder, holder_url, epoch, ${MS} AS ms FROM wallet_leases WHERE wallet = $1`,
    [wallet],
  )
  const x = r.rows[0]
  return x ? { wallet, holder: x.holder, url: x.holder_url, epoch: x.epoch, expiresInMs: x.ms } : null
}
