import { readFileSync } from 'node:fs'
import path from 'node:path'
import { sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../scripts/lib/startStack.js'
import { type RequestVector, tsRequestVectors, vectorKey } from '../scripts/lib/tsRequestVectors.js'
import { ed25519PrivateKeyFromSeed } from './ed25519PrivateKeyFromSeed.js'

const file = path.join(repoRoot, 'clients/python/tests/vectors/ts_requests.json')

/** The vectors the Python SDK must match (clients/python/tests/test_vectors.py) are still what this SDK sends. */
describe('request vectors shared with the Python SDK', () => {
  const committed = JSON.parse(readFileSync(file, 'utf8')) as { vectors: RequestVector[] }

  it('the TypeScript SDK still produces the committed request bytes (up to nonce, issuedAt and expiresAt)', async () => {
    const fresh = await tsRequestVectors()
    expect(fresh.map((v) => v.name)).toEqual(committed.vectors.map((v) => v.name))
    fresh.forEach((v, i) => {
      const c = committed.vectors[i]!
      const { nonce, issuedAt, expiresAt } = JSON.parse(c.request) as { nonce: string; issuedAt: number; expiresAt?: number }
      // Sign requests carry expiresAt (issuedAt + the SDK timeout); reads do not.
      const pinned = JSON.stringify({ ...JSON.parse(v.request), nonce, issuedAt, expiresAt })
      expect(pinned).toBe(c.request)
      expect(v.path).toBe(c.path)
    })
  })

  it('each committed signature is the key’s Ed25519 signature over exactly the request bytes', () => {
    const key = ed25519PrivateKeyFromSeed(vectorKey().privateKey)
    for (const v of committed.vectors) expect(sign(null, Buffer.from(v.request, 'utf8'), key).toString('hex')).toBe(v.signature)
  })
})
