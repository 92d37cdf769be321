import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Hex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../../scripts/lib/startStack.js'
import { type StackWithAgent, eip3009, paymentPolicy, postSign, signedBody, stackWithAgent, verifyEip3009, waitAgentFloor } from '../helpers/agentClient.js'

/**
 * A checkout like this one, but without the `secp256k1` package (a platform
 * with no prebuilt binding and no compiler, an install that skipped it): the
 * bundles and package.json copied, every other dependency linked.
 */
function rootWithoutSecp256k1(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'bursar-nosecp-'))
  mkdirSync(path.join(root, 'dist'))
  for (const f of ['enclave.sim.mjs', 'governance.sim.mjs', 'host.mjs']) copyFileSync(path.join(repoRoot, 'dist', f), path.join(root, 'dist', f))
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'))
  mkdirSync(path.join(root, 'node_modules'))
  for (const name of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (name !== 'secp256k1') symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(root, 'node_modules', name))
  }
  return root
}

const engineLine = (logs: string[]) => /secp256k1 (libsecp256k1|noble)/.exec(logs.join(''))?.[1]

/**
 * Attack (and fresh-clone check): the native binding is absent or cannot be
 * found (the package missing; SECP256K1_PREBUILD, which node-gyp-build reads,
 * pointed at an empty directory). The enclave must still start, say which
 * engine it uses, and sign payments a verifier (viem) accepts: the noble
 * fallback, same signatures. Nothing halts, nothing signs wrongly.
 */
describe('adversarial: the libsecp256k1 binding missing falls back to noble and still signs correctly', () => {
  const stacks: StackWithAgent[] = []
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stack.stop()))
  })

  const pays = async (s: StackWithAgent) => {
    await waitAgentFloor()
    for (let i = 0; i < 3; i++) {
      const op = eip3009({ wallet: s.wallet, value: 10n })
      const r = await postSign(s.stack.url, signedBody({ agentKey: s.agentKey, wallet: s.wallet, operation: op }))
      expect(r.status).toBe(200)
      expect(await verifyEip3009(s.wallet, op, r.json.signature as Hex)).toBe(true)
    }
  }

  it('this checkout: the enclave loads the native binding', async () => {
    const s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }))
    stacks.push(s)
    expect(engineLine(s.stack.logs)).toBe('libsecp256k1')
    await pays(s)
  })

  it('the secp256k1 package is not installed: noble, logged, payments verify', async () => {
    const root = rootWithoutSecp256k1()
    const s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }), { root })
    stacks.push(s)
    expect(engineLine(s.stack.logs)).toBe('noble')
    await pays(s)
  })

  it('SECP256K1_PREBUILD points at an empty directory: noble, logged, payments verify', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'bursar-noprebuild-'))
    const s = await stackWithAgent(paymentPolicy({ perTx: '1000', rolling24h: '1000000' }), { env: { SECP256K1_PREBUILD: empty } })
    stacks.push(s)
    expect(engineLine(s.stack.logs)).toBe('noble')
    await pays(s)
  })
})
