import { buildConsole } from '../scripts/buildConsole.js'
import { buildEnclave } from '../scripts/buildEnclave.js'
import { buildCli } from '../scripts/buildPackage.js'
import { TEST_CLI_DIR } from './helpers/testCli.js'

/**
 * Vitest global setup: builds the enclave and host bundles that integration tests spawn, and the owner console the
 * browser tests load (once here, before any file runs: two browser files in parallel workers would otherwise both
 * find it stale and rebuild dist/console under each other; a no-op hash check when it is current), and the CLI bundled
 * from this checkout's sources (dist/test-cli, ~1 s): spawned CLI runs start in ~0.2 s of CPU instead of ~2 s through tsx.
 */
export default async function setup(): Promise<void> {
  await buildEnclave({ quiet: true })
  await buildConsole({ quiet: true })
  await buildCli(TEST_CLI_DIR)
}
