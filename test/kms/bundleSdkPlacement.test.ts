/**
 * Issue 18 (enclave RSS, rss37): where the AWS SDK sits in the built bundles. V8 keeps a bundle's whole source in the
 * heap, so the sim bundles leave `@aws-sdk/client-kms` out (~1.2 MB) and reach it only through kmsSealer's dynamic
 * import (with BURSAR_SEALER=kms: test/integration/kmsSealedStack.test.ts). A static import would evaluate it at start;
 * the Nitro bundles must carry it inside, since the EIF ships no node_modules for it (deploy/nitro/Dockerfile).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/startStack.js'

const bundle = (f: string) => readFileSync(path.join(repoRoot, 'dist', f), 'utf8')
const staticSdkImport = /^\s*import\s[^;]*?from\s*["']@aws-sdk\/client-kms["']/m
const dynamicSdkImport = /import\(\s*["']@aws-sdk\/client-kms["']\s*\)/g
const smithySource = /node_modules\/@smithy\//

describe('the AWS SDK in the bundles', () => {
  it.each(['enclave.sim.mjs', 'governance.sim.mjs'])('%s leaves it out and imports it only dynamically', (f) => {
    const text = bundle(f)
    expect(text).not.toMatch(smithySource)
    expect(text).not.toMatch(staticSdkImport)
    expect(text.match(dynamicSdkImport)).toHaveLength(1)
  })

  it.each(['enclave.mjs', 'governance.mjs'])('%s (Nitro) carries it inside and names no package to load at run time', (f) => {
    const text = bundle(f)
    expect(text).toMatch(smithySource)
    expect(text).not.toMatch(staticSdkImport)
    expect(text).not.toMatch(dynamicSdkImport)
  })
})
