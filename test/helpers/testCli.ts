import { existsSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from '../../scripts/lib/startStack.js'

/** The CLI bundled from this checkout's sources by test/globalSetup.ts (scripts/buildPackage.ts buildCli; not shipped). */
export const TEST_CLI_DIR = path.join(repoRoot, 'dist/test-cli')

/**
 * What a test spawns as `bursar`: the bundle built for this run (the same sources and esbuild options as the npm
 * package's dist/cli), else — BURSAR_TEST_CLI=source, or no global setup ran — bin/bursar.mjs, which runs the
 * TypeScript sources through tsx (~2 s of CPU per run instead of ~0.2 s).
 */
export function testCliEntry(): string {
  const bundled = path.join(TEST_CLI_DIR, 'main.js')
  return process.env.BURSAR_TEST_CLI !== 'source' && existsSync(bundled) ? bundled : path.join(repoRoot, 'bin/bursar.mjs')
}
