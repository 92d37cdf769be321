import { createDecipheriv } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { SealError } from '../enclave/seal/SealError.js'
import { createSimSealer } from './simSealer.js'

const dir = () => mkdtempSync(join(tmpdir(), 'bursar-sim-seal-'))
const pt = new TextEncoder().encode('state snapshot')

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    expect(e).toBeInstanceOf(SealError)
    return (e as SealError).code
  }
  throw new Error('expected a SealError')
}

describe('createSimSealer', () => {
  it('creates a 0600 32-byte key on first run and reuses it', async () => {
    const keyFile = join(dir(), 'seal.key')
    const a = createSimSealer({ keyFile })
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(keyFile).length).toBe(32)
    const blob = await a.seal({ purpose: 'p', walletId: 'w', version: 3, plaintext: pt })
    const b = createSimSealer({ keyFile })
    expect(await b.unseal({ blob, purpose: 'p', walletId: 'w' })).toEqual({ plaintext: pt, version: 3 })
  })

  it('tail37: plaintext given as parts seals as their concatenation, in the blob cborg itself would write', async () => {
    const keyFile = join(dir(), 'seal.key')
    const s = createSimSealer({ keyFile })
    const parts = [new Uint8Array(0), pt, new Uint8Array(70_000).fill(9), Uint8Array.of(1)]
    const joined = Buffer.concat(parts)
    const bytes = await s.seal({ purpose: 'p', walletId: 'w', version: 2, plaintext: parts })
    const blob = decode(bytes) as Record<string, Uint8Array>
    expect(Buffer.from(encode(blob)).equals(Buffer.from(bytes))).toBe(true) // canonical: the envelope cborg writes for these fields
    const d = createDecipheriv('aes-256-gcm', readFileSync(keyFile), blob.iv!)
    d.setAAD(Buffer.from('{"kind":"sim","purpose":"p","version":2,"walletId":"w"}'))
    d.setAuthTag(blob.ct!.subarray(-16))
    expect(Buffer.concat([d.update(blob.ct!.subarray(0, -16)), d.final()]).equals(joined)).toBe(true)
    expect(Buffer.from((await s.unseal({ blob: bytes, purpose: 'p', walletId: 'w' })).plaintext).equals(joined)).toBe(true)
    expect(await codeOf(() => s.seal({ purpose: 'p', walletId: 'w', version: 3, plaintext: [pt, 'x' as unknown as Uint8Array] }))).toBe('seal_options_invalid')
  })

  it('produces the documented blob, decryptable by independent AES-GCM code', async () => {
    const keyFile = join(dir(), 'seal.key')
    const s = createSimSealer({ keyFile })
    const blob = decode(await s.seal({ purpose: 'enclave-state', walletId: '', version: 7, plaintext: pt })) as Record<string, Uint8Array>
    expect(Object.keys(blob).sort()).toEqual(['ct', 'iv', 'kind', 'purpose', 'v', 'version', 'walletId'])
    expect(blob.iv!.length).toBe(12)
    const d = createDecipheriv('aes-256-gcm', readFileSync(keyFile), blob.iv!)
    d.setAAD(Buffer.from('{"kind":"sim","purpose":"enclave-state","version":7,"walletId":""}'))
    d.setAuthTag(blob.ct!.subarray(-16))
    expect(new Uint8Array(Buffer.concat([d.update(blob.ct!.subarray(0, -16)), d.final()]))).toEqual(pt)
  })

  it('refuses insecure, foreign-sized or symlinked key files with typed errors', async () => {
    const d = dir()
    const loose = join(d, 'loose.key')
    writeFileSync(loose, Buffer.alloc(32, 1))
    chmodSync(loose, 0o640)
    expect(await codeOf(() => createSimSealer({ keyFile: loose }))).toBe('seal_key_file_insecure')
    const short = join(d, 'short.key')
    writeFileSync(short, Buffer.alloc(31, 1), { mode: 0o600 })
    expect(await codeOf(() => createSimSealer({ keyFile: short }))).toBe('seal_key_file_invalid')
    expect(await codeOf(() => createSimSealer({ keyFile: join(d, 'no', 'such', 'dir.key') }))).toBe('seal_key_file_invalid')
  })

  it('refuses a blob for another purpose or wallet, a tampered header or ct, and another key', async () => {
    const s = createSimSealer({ keyFile: join(dir(), 'k') })
    const blob = await s.seal({ purpose: 'p', walletId: 'w1', version: 1, plaintext: pt })
    expect(await codeOf(s.unseal({ blob, purpose: 'p', walletId: 'w2' }))).toBe('seal_context_mismatch')
    expect(await codeOf(s.unseal({ blob, purpose: 'q', walletId: 'w1' }))).toBe('seal_context_mismatch')
    const o = decode(blob) as Record<string, unknown>
    expect(await codeOf(s.unseal({ blob: encode({ ...o, walletId: 'w2' }), purpose: 'p', walletId: 'w2' }))).toBe('seal_auth_failed')
    expect(await codeOf(s.unseal({ blob: encode({ ...o, version: 9 }), purpose: 'p', walletId: 'w1' }))).toBe('seal_auth_failed')
    const ct = new Uint8Array(o.ct as Uint8Array)
    ct[0]! ^= 1
    expect(await codeOf(s.unseal({ blob: encode({ ...o, ct }), purpose: 'p', walletId: 'w1' }))).toBe('seal_auth_failed')
    const other = createSimSealer({ keyFile: join(dir(), 'k') })
    expect(await codeOf(other.unseal({ blob, purpose: 'p', walletId: 'w1' }))).toBe('seal_auth_failed')
  })

  it('refuses an older version than one already seen, once authenticated', async () => {
    const s = createSimSealer({ keyFile: join(dir(), 'k') })
    const v1 = await s.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: pt })
    const v2 = await s.seal({ purpose: 'p', walletId: 'w', version: 2, plaintext: pt })
    expect((await s.unseal({ blob: v2, purpose: 'p', walletId: 'w' })).version).toBe(2)
    expect(await codeOf(s.unseal({ blob: v1, purpose: 'p', walletId: 'w' }))).toBe('seal_version_rollback')
  })

  it('turns every malformed blob into seal_blob_malformed', async () => {
    const s = createSimSealer({ keyFile: join(dir(), 'k') })
    const blob = await s.seal({ purpose: 'p', walletId: 'w', version: 1, plaintext: pt })
    const o = decode(blob) as Record<string, unknown>
    const bad = [
      new Uint8Array(0),
      blob.subarray(0, blob.length - 1),
      new Uint8Array([...blob, 0]),
      encode([1, 2]),
      encode({ ...o, v: 2 }),
      encode({ ...o, kind: 'kms' }),
      encode({ ...o, iv: new Uint8Array(11) }),
      encode({ ...o, ct: new Uint8Array(3) }),
      encode({ ...o, version: -1 }),
      encode({ ...o, extra: 1 }),
    ]
    for (const b of bad) expect(await codeOf(s.unseal({ blob: b, purpose: 'p', walletId: 'w' }))).toBe('seal_blob_malformed')
    for (let i = 0; i < 200; i++) {
      const b = new Uint8Array(blob)
      b[Math.floor(Math.random() * b.length)]! ^= 1 + Math.floor(Math.random() * 255)
      await expect(s.unseal({ blob: b, purpose: 'p', walletId: 'w' })).rejects.toBeInstanceOf(SealError)
    }
  })
})
