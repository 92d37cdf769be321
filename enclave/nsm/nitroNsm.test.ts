import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { decodeNsmResponse } from './decodeNsmResponse.js'
import { encodeNsmRequest } from './encodeNsmRequest.js'
import { createNitroNsm, NSM_IOCTL_RAW, NSM_RESPONSE_MAX_BYTES } from './nitroNsm.js'

const here = dirname(fileURLToPath(import.meta.url))

describe('NSM request encoding', () => {
  it('encodes {"Attestation": {user_data, nonce, public_key}} with nulls for absent fields', () => {
    const bytes = encodeNsmRequest({ nonce: new Uint8Array([1, 2]) })
    // Independent reading: the first bytes are map(1), text(11) "Attestation", map(3).
    expect(Buffer.from(bytes.subarray(0, 14)).toString('hex')).toBe(`a16b${Buffer.from('Attestation').toString('hex')}a3`)
    const decoded = decode(bytes, { useMaps: true }) as Map<string, Map<string, unknown>>
    const inner = decoded.get('Attestation')!
    expect([...inner.keys()]).toEqual(['user_data', 'nonce', 'public_key'])
    expect(inner.get('user_data')).toBeNull()
    expect(inner.get('nonce')).toEqual(new Uint8Array([1, 2]))
    expect(inner.get('public_key')).toBeNull()
  })

  it('enforces the sizes bursar produces', () => {
    expect(() => encodeNsmRequest({ userData: new Uint8Array(513) })).toThrow(expect.objectContaining({ code: 'nsm_invalid_request' }))
    expect(() => encodeNsmRequest({ publicKey: new Uint8Array(0) })).toThrow(expect.objectContaining({ code: 'nsm_invalid_request' }))
    expect(encodeNsmRequest({ userData: new Uint8Array(512), nonce: new Uint8Array(512), publicKey: new Uint8Array(1024) }).length).toBeLessThan(4096)
  })
})

describe('NSM response decoding', () => {
  it('returns the document of an Attestation response', () => {
    const doc = new Uint8Array([0x84, 1, 2, 3])
    expect(decodeNsmResponse(encode(new Map([['Attestation', new Map([['document', doc]])]])))).toEqual(doc)
  })

  it('turns Error responses and garbage into typed errors', () => {
    expect(() => decodeNsmResponse(encode(new Map([['Error', 'InvalidArgument']])))).toThrow(
      expect.objectContaining({ code: 'nsm_error', details: 'InvalidArgument' }),
    )
    for (const bad of [new Uint8Array([0xff]), encode({ Attestation: {} }), encode([1]), encode({ a: 1, b: 2 })]) {
      expect(() => decodeNsmResponse(bad)).toThrow(expect.objectContaining({ code: 'nsm_bad_response' }))
    }
  })
})

describe('createNitroNsm', () => {
  it('uses NSM_IOCTL_RAW = _IOWR(0x0A, 0, 32-byte struct nsm_raw)', () => {
    expect(NSM_IOCTL_RAW).toBe(((3 << 30) >>> 0) + (32 << 16) + (0x0a << 8))
    expect(readFileSync(join(here, 'native/nsm_ioctl.c'), 'utf8')).toContain('0xC0200A00')
  })

  it('sends the encoded request through the addon and decodes the reply', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bursar-nsm-'))
    const addonPath = join(dir, 'fakeAddon.cjs')
    const reply = Buffer.from(encode(new Map([['Attestation', new Map([['document', new Uint8Array([9, 9])]])]]))).toString('hex')
    writeFileSync(addonPath, `exports.calls = []; exports.nsmRaw = (fd, req, cap) => { exports.calls.push({ fd, req: Buffer.from(req).toString('hex'), cap }); return Buffer.from('${reply}', 'hex') }`)
    const nsm = createNitroNsm({ addonPath, devicePath: '/dev/null' })
    expect(await nsm.attest({ nonce: new Uint8Array([5]) })).toEqual(new Uint8Array([9, 9]))
    const { createRequire } = await import('node:module')
    const calls = createRequire(import.meta.url)(addonPath).calls as { req: string; cap: number }[]
    expect(calls[0]!.req).toBe(Buffer.from(encodeNsmRequest({ nonce: new Uint8Array([5]) })).toString('hex'))
    expect(calls[0]!.cap).toBe(NSM_RESPONSE_MAX_BYTES)
  })

  it('reports a missing addon or device as nsm_unavailable', async () => {
    const nsm = createNitroNsm({ addonPath: '/nonexistent/nsm_ioctl.node' })
    await expect(nsm.attest({})).rejects.toMatchObject({ code: 'nsm_unavailable' })
  })

  const headers = ['/usr/include/node/node_api.h', join(process.execPath, '../../include/node/node_api.h')].find(existsSync)
  it.runIf(headers !== undefined)('the C addon compiles, loads and surfaces ioctl errors (ENOTTY on /dev/null)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bursar-nsm-addon-'))
    const out = join(dir, 'nsm_ioctl.node')
    try {
      execFileSync('cc', ['-shared', '-fPIC', '-O2', `-I${dirname(headers!)}`, '-DNODE_GYP_MODULE_NAME=nsm_ioctl', join(here, 'native/nsm_ioctl.c'), '-o', out], { stdio: 'pipe' })
    } catch (err) {
      console.warn('C compiler unavailable, addon test skipped:', (err as Error).message)
      return
    }
    const nsm = createNitroNsm({ addonPath: out, devicePath: '/dev/null' })
    await expect(nsm.attest({ nonce: new Uint8Array([1]) })).rejects.toMatchObject({ code: 'nsm_unavailable' })
  })

  it('never reaches the simulation NSM or @peculiar/x509, even transitively', () => {
    const seen = new Set<string>()
    const walk = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const src = readFileSync(file, 'utf8')
      const specifiers = [...src.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!)
      for (const spec of specifiers) expect(spec).not.toMatch(/@peculiar\/x509|mockNsm|loadX509|SimulationPki/)
      for (const [, rel] of src.matchAll(/from '(\.[^']+)\.js'/g)) walk(resolve(dirname(file), `${rel}.ts`))
    }
    walk(join(here, 'nitroNsm.ts'))
    expect(seen.size).toBeGreaterThan(3)
  })
})
