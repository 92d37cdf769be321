import { readFileSync } from 'node:fs'
import { buildConsole } from '../scripts/buildConsole.js'
import { buildEnclave } from '../scripts/buildEnclave.js'
import { buildCli, ensureLibrary } from '../scripts/buildPackage.js'
import { ensureChromium } from '../scripts/ensureChromium.js'
import { TEST_CLI_DIR } from './helpers/testCli.js'

/**
 * The test files this run selected (vitest collects them before the global setup runs); undefined when this vitest
 * does not say (then nothing optional is prepared here: each file still prepares what it needs itself).
 */
function selectedFiles(project: unknown): string[] | undefined {
  // vitest 4: the run's paths are collected (state.getPaths) before its global setup; not a documented API, hence the care.
  const state = (project as { vitest?: { state?: { getPaths?: () => string[] } } } | undefined)?.vitest?.state
  try {
    const files = state?.getPaths?.()
    return Array.isArray(files) ? files : undefined
  } catch {
    return undefined
  }
}

const mentions = (files: string[], re: RegExp) =>
  files.some((f) => {
    try {
      return re.test(readFileSync(f, 'utf8'))
    } catch {
      return false
    }
  })

/**
 * Vitest global setup: builds the enclave and host bundles that integration tests spawn, and the owner console the
 * browser tests load (once here, before any file runs: two browser files in parallel workers would otherwise both
 * find it stale and rebuild dist/console under each other; a no-op hash check when it is current), and the CLI bundled
 * from this checkout's sources (dist/test-cli, ~1 s): spawned CLI runs start in ~0.2 s of CPU instead of ~2 s through tsx.
 * When the selected files need them: dist/pkg (`bursar/agent` for plain node: devchain's pay.mjs), rebuilt
 * here when stale rather than by two files at once; and Chromium, installed here (once) on a machine without it
 * rather than by two browser files running apt-get at once.
 */
export default async function setup(project?: unknown): Promise<void> {
  await buildEnclave({ quiet: true })
  await buildConsole({ quiet: true })
  await buildCli(TEST_CLI_DIR)
  const files = selectedFiles(project)
  // `bursar devchain` (test/e2e/devchain.test.ts) compiles dist/pkg when stale (its pay.mjs imports bursar/agent).
  if (files && mentions(files, /'devchain'/)) await ensureLibrary()
  if (files && mentions(files, /helpers\/consoleBrowser|ensureChromium/)) ensureChromium()
}
