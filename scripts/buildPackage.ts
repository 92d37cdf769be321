/**
 * Builds what the npm package ships (`npm run build`, run by `npm pack` through prepack):
 * - dist/enclave.sim.mjs, dist/enclave.mjs, dist/host.mjs: the enclave and host bundles (scripts/buildEnclave.ts);
 * - dist/pkg/: `bursar/agent` and `bursar/verifier` compiled by tsc to JavaScript + .d.ts (tsconfig.build.json),
 *   importing their dependencies (viem, zod, …) from node_modules like any library;
 * - dist/cli/: the CLI bundled by esbuild (one file per top-level command, loaded on demand), so a call reaches its
 *   first output in ~0.1–0.2 s instead of resolving hundreds of modules. The dev-chain tools (anvil, solc, express,
 *   the x402 reference server) stay external: `bursar demo`/`devchain` explain they need the repository;
 * - dist/console/: the owner console (scripts/buildConsole.ts), served by the packaged host at `/`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildEnclave } from './buildEnclave.js'
import { packageRoot } from './lib/packageRoot.js'

const root = packageRoot(import.meta.url)

/** Modules only the repository has (devDependencies): kept out of the CLI bundle. */
export const DEV_ONLY_EXTERNALS = ['esbuild', 'tsx', '@foundry-rs/*', 'solc', 'express', '@x402/express', '@x402/extensions', '@x402/extensions/*', '@offchainlabs/*', '@uniswap/*', 'vite', 'playwright-core']

/**
 * Builds into a temporary directory and swaps it into place, so a process importing the old build never sees half a
 * new one. Two processes swapping the same build (e.g. two test files both finding dist/pkg stale) do not fail: when
 * the other one's build is already in place (rename onto a non-empty directory), it is kept and ours dropped.
 */
export function swapInto(dest: string, fill: (tmp: string) => void | Promise<void>): Promise<void> {
  const tmp = `${dest}.${process.pid}.tmp`
  const old = `${dest}.${process.pid}.old`
  rmSync(tmp, { recursive: true, force: true })
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code
  return Promise.resolve(fill(tmp)).then(() => {
    try {
      renameSync(dest, old)
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e // none yet, or another process moved it away just now
    }
    try {
      renameSync(tmp, dest)
    } catch (e) {
      if (code(e) !== 'ENOTEMPTY' && code(e) !== 'EEXIST') throw e
      rmSync(tmp, { recursive: true, force: true }) // another process swapped its build in first: keep that one
    }
    rmSync(old, { recursive: true, force: true })
  })
}

/** `bursar/agent` and `bursar/verifier`: tsc → JavaScript + .d.ts under dist/pkg. */
export async function buildLibrary(): Promise<void> {
  await swapInto(path.join(root, 'dist/pkg'), (tmp) => {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', tmp], { stdio: 'inherit' })
    writeFileSync(path.join(tmp, '.built'), `${new Date().toISOString()}\n`)
  })
}

/** The newest modification time of the TypeScript sources the library is compiled from. */
function newestSource(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/**
 * In a repository checkout, (re)builds dist/pkg when it is missing or older than the sources, so a script importing
 * `bursar/agent` (the package's self-reference, e.g. devchain's pay.mjs) runs the code in the tree. No-op in the
 * installed package (no sources; dist/pkg shipped).
 */
export async function ensureLibrary(onBuild?: () => void): Promise<void> {
  if (!existsSync(path.join(root, 'agent/index.ts'))) return
  const stamp = path.join(root, 'dist/pkg/.built')
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0
  const newest = Math.max(...['agent', 'shared', 'core'].map((d) => newestSource(path.join(root, d))))
  if (built > newest) return
  onBuild?.()
  await buildLibrary()
}

/**
 * The CLI, bundled by esbuild into dist/cli (one chunk per top-level command, loaded on demand). `dest`: elsewhere,
 * e.g. dist/test-cli, the copy the tests spawn (test/globalSetup.ts), which `npm pack` never swaps under them.
 */
export async function buildCli(dest = path.join(root, 'dist/cli')): Promise<void> {
  const { build } = await import('esbuild')
  await swapInto(dest, async (tmp) => {
    await build({
      entryPoints: [path.join(root, 'cli/main.ts')],
      outdir: tmp,
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
  })
}

export async function buildPackage(opts: { quiet?: boolean } = {}): Promise<void> {
  const log = (s: string) => opts.quiet || console.log(s)
  await buildEnclave({ quiet: opts.quiet })
  await buildLibrary()
  log('built dist/pkg (bursar/agent, bursar/verifier: JavaScript + .d.ts)')
  await buildCli()
  log('built dist/cli (the bursar command, bundled)')
  // The owner console, so an installed host (dist/host.mjs) serves it at / (host/routes/dashboard.ts looks beside the bundle).
  const { buildConsole } = await import('./buildConsole.js')
  await buildConsole({ quiet: true })
  log('built dist/console (the owner console, Vite)')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildPackage()
}
