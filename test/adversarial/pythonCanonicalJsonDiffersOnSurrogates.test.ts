import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const PY = path.join(ROOT, '.venv/bin/python')

/** The code units JSON.stringify treats apart (controls, quote, backslash, U+2028/9, every surrogate edge, U+FFFF), and some plain ones. */
const UNITS = [0x0, 0x1, 0x8, 0x9, 0xa, 0xc, 0xd, 0x1f, 0x20, 0x22, 0x5c, 0x2f, 0x7f, 0x80, 0xe9, 0x2028, 0x2029, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xd83d, 0xde00, 0xfeff, 0xfffe, 0xffff, 0x61, 0x75, 0x30]

/**
 * Red team rt40 on suite40 (the Python SDK's canonical_json writes a lone surrogate `\udXXX` as JSON.stringify does, a
 * pair held as two code points as its one character). Attack: strings of random UTF-16 code units — lone and paired
 * surrogates in every order, controls, quotes, backslashes, U+2028/9, U+FFFF — as values and as keys (key order by
 * UTF-16 units), so that an auditor's Python hash of an entry differs from the enclave's (a receipt an honest SDK
 * refuses, or one it accepts for other bytes). Safe: byte-for-byte equal canonical JSON for each of 20,000 values
 * (seeded: the same strings each run); the values travel to Python as ASCII JSON (every unit escaped), as json.loads reads an answer.
 */
describe('adversarial: Python canonical JSON vs TypeScript on adversarial UTF-16 strings (suite40)', () => {
  it.skipIf(!existsSync(PY))('20,000 values with random code units as values and keys: the same UTF-8 bytes', () => {
    let seed = 12345
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n)
    const str = (max: number) => Array.from({ length: rnd(max) }, () => String.fromCharCode(UNITS[rnd(UNITS.length)]!)).join('')
    const ascii = (v: unknown) => JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const values = Array.from({ length: 20_000 }, () => {
      const s = str(7)
      return { a: s, [`${str(4)}x`]: [s, 1], [`${s}y`]: null }
    })
    const code = `import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'clients/python/src'))})
from bursar.receipts import canonical_json
out = []
for line in sys.stdin.read().splitlines():
    try: out.append(canonical_json(json.loads(line)).encode('utf-8').hex())
    except Exception as err: out.append('error: ' + type(err).__name__)
print(json.dumps(out))`
    const python = JSON.parse(execFileSync(PY, ['-c', code], { input: values.map(ascii).join('\n'), maxBuffer: 64 * 1024 * 1024 }).toString()) as string[]
    const differ = values.map((v, i) => [i, Buffer.from(canonicalJson(v), 'utf8').toString('hex'), python[i]] as const).filter(([, ts, py]) => ts !== py)
    expect(python.length).toBe(values.length)
    expect(differ.slice(0, 3)).toEqual([])
  }, 120_000)
})
