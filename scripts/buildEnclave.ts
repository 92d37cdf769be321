/**
 * Bundles the enclave entrypoints (and the host) with esbuild into dist/.
 * The simulated NSM measures the bundle it runs as PCR0, so any change to
 * enclave code changes PCR0. Output is deterministic (no timestamps).
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageRoot } from './lib/packageRoot.js'

const root = packageRoot(import.meta.url)
const BUNDLES = ['dist/enclave.sim.mjs', 'dist/enclave.mjs', 'dist/governance.sim.mjs', 'dist/governance.mjs', 'dist/host.mjs'] as const

/**
 * Makes sure the bundles the simulation runs exist. In the repository (sources present) they are rebuilt when
 * missing, or always with `rebuild` (`make sim`); the npm package ships them prebuilt and has no esbuild.
 */
export async function ensureBundles(onBuild?: () => void, opts: { rebuild?: boolean } = {}): Promise<void> {
  const fromSource = existsSync(path.join(root, 'enclave/main.ts'))
  const missing = BUNDLES.filter((f) => !existsSync(path.join(root, f)))
  if (fromSource && (opts.rebuild || missing.length > 0)) {
    onBuild?.()
    await buildEnclave({ quiet: true })
  } else if (missing.length > 0) throw new Error(`bursar is missing ${missing.join(', ')} in ${root}: reinstall the package`)
}
/**
 * esbuild escapes every non-ASCII character in code (charset ascii) but keeps comments verbatim. One `—` or `≤` left in
 * a comment makes V8 hold the whole bundle's source as a two-byte string (2 bytes per character, ~7 MB instead of
 * ~3 MB, for the life of the process: lazy functions compile from it). Only comments can hold such characters here, so
 * they are written as \u escapes (text in a comment; the code is unchanged).
 */
export function asciiOnly(text: string): string {
  return text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
}
const banner = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }

export async function buildEnclave(opts: { quiet?: boolean } = {}): Promise<Record<string, string>> {
  // esbuild is a development dependency: imported only when building from the sources.
  const esbuild = await import('esbuild')
  // Each bundle is written to a temporary name and renamed into place, so a process starting a bundle while another
  // rebuilds it (parallel tests, `npm pack`) never reads a half-written file.
  const build = async (o: import('esbuild').BuildOptions & { outfile: string }) => {
    const r = await esbuild.build({ ...o, write: false })
    for (const f of r.outputFiles) {
      const tmp = `${f.path}.${process.pid}.tmp`
      mkdirSync(path.dirname(f.path), { recursive: true })
      writeFileSync(tmp, asciiOnly(f.text))
      renameSync(tmp, f.path)
    }
  }
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    banner,
    legalComments: 'none' as const,
    charset: 'ascii' as const,
    logLevel: 'warning' as const,
  }
  // Issue 18 (RSS): V8 keeps a bundle's whole source in the heap for as long as it runs. The sim bundles load the AWS SDK
  // from node_modules (it is a dependency), and only with BURSAR_SEALER=kms (kmsSealer.ts imports it at the first KMS
  // call): ~1.2 MB of source out of every sim enclave's heap. The Nitro bundles keep it inside (the EIF has no SDK).
  const simExternal = ['@aws-sdk/client-kms']
  const targets = [
    { entry: 'sim/main.sim.ts', out: 'dist/enclave.sim.mjs', external: simExternal },
    { entry: 'enclave/main.ts', out: 'dist/enclave.mjs', external: [] },
    // Issue 12 stage B: governance's own process (the sim enclave starts it beside itself; Nitro: deploy/nitro/entrypoint.sh).
    { entry: 'sim/governance.sim.ts', out: 'dist/governance.sim.mjs', external: simExternal },
    { entry: 'governance/main.ts', out: 'dist/governance.mjs', external: [] },
  ]
  const out: Record<string, string> = {}
  for (const t of targets) {
    await build({ ...common, entryPoints: [path.join(root, t.entry)], outfile: path.join(root, t.out), external: t.external })
    out[t.out] = createHash('sha384').update(readFileSync(path.join(root, t.out))).digest('hex')
  }
  await build({
    ...common,
    entryPoints: [path.join(root, 'host/server.ts')],
    outfile: path.join(root, 'dist/host.mjs'),
    external: ['better-sqlite3', 'pg', '@fastify/swagger-ui'],
  })
  if (!opts.quiet) for (const [f, h] of Object.entries(out)) console.log(`built ${f}  sha384 ${h.slice(0, 32)}…`)
  return out
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildEnclave()
}
