import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { type Postgres, startPostgres } from '../../scripts/pg/ensurePostgres.js'

let shared: Postgres | null = null

/**
 * A throwaway PostgreSQL cluster for this test file (started by the project's own script: installed with apt when
 * missing), and a fresh database in it per call. Pair with `releasePostgres()` in afterAll.
 */
export async function freshDatabase(): Promise<string> {
  if (!shared) {
    shared = await startPostgres()
    const s = shared
    process.once('exit', () => s.stop()) // a worker that dies without afterAll still stops its cluster
  }
  const name = `t_${randomBytes(6).toString('hex')}`
  const c = new pg.Client({ connectionString: shared.url })
  await c.connect()
  await c.query(`CREATE DATABASE ${name}`)
  await c.end()
  return shared.url.replace(/\/postgres$/, `/${name}`)
}

/** Stops the file's cluster (afterAll). */
export function releasePostgres(): void {
  if (!shared) return
  shared.stop()
  shared = null
}
