import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root (/work/main in the shared checkout). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export type NitroVector = {
  name: string
  bytes: Uint8Array
  /** The vector's .json: source, timestamp_ms, valid_window_s, expected verdict… */
  meta: {
    expected?: string
    kind?: string
    timestamp_ms?: number
    valid_window_s?: [number, number]
    payload?: { debug_mode_zero_pcr0?: boolean; nonce?: string | null }
    [key: string]: unknown
  }
}

export type NitroVectors = { dir: string; rootPem: string; vectors: NitroVector[] }

/**
 * Loads the real Nitro vectors from `BURSAR_NITRO_VECTORS` (default
 * ../shared/vectors/nitro, relative to the repo root) without copying them;
 * returns null, after a loud warning, when the folder is absent.
 */
export function loadNitroVectors(): NitroVectors | null {
  const dir = resolve(REPO_ROOT, process.env.BURSAR_NITRO_VECTORS ?? '../shared/vectors/nitro')
  if (!existsSync(resolve(dir, 'root.pem'))) {
    console.warn(`\n!!! Nitro attestation vectors NOT FOUND at ${dir}: vector suites are SKIPPED. Set BURSAR_NITRO_VECTORS. !!!\n`)
    return null
  }
  const vectors: NitroVector[] = []
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const meta = JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as NitroVector['meta']
    const base = file.slice(0, -'.json'.length)
    const bin = ['.cbor', '.ber'].map((ext) => resolve(dir, base + ext)).find((p) => existsSync(p))
    if (bin) vectors.push({ name: base, bytes: new Uint8Array(readFileSync(bin)), meta })
  }
  return { dir, rootPem: readFileSync(resolve(dir, 'root.pem'), 'utf8'), vectors }
}
