import { buildConsole } from '../scripts/buildConsole.js'
import { buildEnclave } from '../scripts/buildEnclave.js'

/**
 * Vitest global setup: builds the enclave and host bundles that integration tests spawn, and the owner console the
 * browser tests load (once here, before any file runs: two browser files in parallel workers would otherwise both
 * find it stale and rebuild dist/console under each other; a no-op hash check when it is current).
 */
export default async function setup(): Promise<void> {
  await buildEnclave({ quiet: true })
  await buildConsole({ quiet: true })
}
