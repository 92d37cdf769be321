/**
 * Builds what the npm package ships (`npm run build`, run by `npm pack` through prepack):
 * - dist/enclave.sim.mjs, dist/enclave.mjs, dist/host.mjs: the enclave and host bundles (scripts/buildEnclave.ts);
 * - dist/pkg/: `bursar/agent` and `bursar/verifier` compiled by tsc to JavaScript + .d.ts (tsconfig.build.json),
 *   importing their dependencies (viem, zod, …) from node_modules like any library;
 * - dist/cli/: the CLI bundled by esbuild (one file per top-level command, loaded on demand), so a call reaches its
 *   first output in ~0.1–0.2 s instead of resolving hundreds of modules. The dev-chain tools (anvil, solc, express,
 *   the x402 reference server) stay external: `bursar demo`/`devchain` explain they need the repository.
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { buildEnclave } from './buildEnclave.js'
import { packageRoot } from './lib/packageRoot.js'

const root = packageRoot(import.meta.url)

/** Modules only the repository has (devDependencies): kept out of the CLI bundle. */
export const DEV_ONLY_EXTERNALS = ['esbuild', 'tsx', '@foundry-rs/*', 'solc', 'express', '@x402/express', '@x402/extensions', '@x402/extensions/*', '@offchainlabs/*', '@uniswap/*']

export async function buildPackage(opts: { quiet?: boolean } = {}): Promise<void> {
  const log = (s: string) => opts.quiet || console.log(s)
  await buildEnclave({ quiet: opts.quiet })
  rmSync(path.join(root, 'dist/pkg'), { recursive: true, force: true })
  rmSync(path.join(root, 'dist/cli'), { recursive: true, force: true })
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  log('built dist/pkg (bursar/agent, bursar/verifier: JavaScript + .d.ts)')
  await build({
    entryPoints: [path.join(root, 'cli/main.ts')],
    outdir: path.join(root, 'dist/cli'),
    bundle: true,
    splitting: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
    // better-sqlite3 and secp256k1 are native; the rest is development tooling (see DEV_ONLY_EXTERNALS).
    external: ['better-sqlite3', 'secp256k1', ...DEV_ONLY_EXTERNALS],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  })
  log('built dist/cli (the bursar command, bundled)')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildPackage()
}
