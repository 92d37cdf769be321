import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The directory holding bursar's package.json, found by walking up from `from` (an import.meta.url): the repository
 * root when running the TypeScript sources, the installed package when running the compiled files under dist/.
 */
export function packageRoot(from: string): string {
  let dir = path.dirname(fileURLToPath(from))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(from)}`)
    dir = up
  }
}
