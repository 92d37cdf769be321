import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { recoverAddress } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { SignerPool } from './SignerPool.js'

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const
const digest = `0x${'ab'.repeat(32)}` as const

describe('SignerPool', () => {
  it('signs inline with no workers (the signature recovers to the key)', async () => {
    const pool = new SignerPool({ size: 0, entry: '' })
    const r = await pool.sign(Buffer.from(KEY.slice(2), 'hex'), { kind: 'message', digest })
    expect(await recoverAddress({ hash: digest, signature: r.signature })).toBe(privateKeyToAddress(KEY))
  })

  it('a signer thread that dies fails its in-flight jobs and later jobs are signed inline, never left hanging', async () => {
    // A "worker" that exits at once, like a crashed signer.
    const entry = path.join(tmpdir(), `dying-signer-${process.pid}.mjs`)
    writeFileSync(entry, 'process.exit(3)\n')
    const pool = new SignerPool({ size: 1, entry })
    const first = pool.sign(Buffer.from(KEY.slice(2), 'hex'), { kind: 'message', digest }).catch((e: Error) => e)
    const r1 = await first
    // Either it was rejected by the death or (if the exit came first) signed inline: never hangs.
    if (!(r1 instanceof Error)) expect(r1.signature).toMatch(/^0x/)
    await new Promise((r) => setTimeout(r, 200))
    expect(pool.size).toBe(0)
    const r2 = await pool.sign(Buffer.from(KEY.slice(2), 'hex'), { kind: 'message', digest })
    expect(await recoverAddress({ hash: digest, signature: r2.signature })).toBe(privateKeyToAddress(KEY))
  })
})
