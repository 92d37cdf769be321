/**
 * Bundles the enclave entrypoints (and the host) with esbuild into dist/.
 * The simulated NSM measures the bundle it runs as PCR0, so any change to
 * enclave code changes PCR0. Output is deterministic (no timestamps).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const banner = { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }

export async function buildEnclave(opts: { quiet?: boolean } = {}): Promise<Record<string, string>> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    banner,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
  }
  const targets = [
    { entry: 'sim/main.sim.ts', out: 'dist/enclave.sim.mjs' },
    { entry: 'enclave/main.ts', out: 'dist/enclave.mjs' },
  ]
  const out: Record<string, string> = {}
  for (const t of targets) {
    await build({ ...common, entryPoints: [path.join(root, t.entry)], outfile: path.join(root, t.out) })
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
