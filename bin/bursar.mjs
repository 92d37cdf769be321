#!/usr/bin/env node
// bursar CLI launcher. The npm package runs the compiled, bundled CLI (dist/cli, no TypeScript tooling needed); a repository
// checkout runs its TypeScript sources through tsx (a dev dependency), so the CLI is always the code you are reading.
// BURSAR_CLI=compiled runs the compiled CLI in a checkout (after `npm run build`).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const source = fileURLToPath(new URL('../cli/main.ts', import.meta.url))
if (existsSync(source) && process.env.BURSAR_CLI !== 'compiled') {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../cli/main.ts')
} else {
  await import('../dist/cli/main.js')
}
