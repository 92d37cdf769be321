// The agent session key and MAC as the TypeScript side computes them (shared/protocol/agentSessionKey.ts, the SDK's
// sessionMac), for the Python SDK's tests (clients/python/tests/test_sessions.py):
//   npx tsx scripts/genPythonSessionVectors.ts            writes clients/python/tests/vectors/ts_session.json (fixed inputs)
//   npx tsx scripts/genPythonSessionVectors.ts --stdin    reads [{ agentPriv, enclavePriv, openText, requestText }] (hex
//                                                         X25519 private keys), prints the same fields for each
import { createHmac, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { agentSessionKey, x25519FromHex, x25519Hex } from '../shared/protocol/agentSessionKey.js'
import { repoRoot } from './lib/startStack.js'

type Input = { agentPriv: string; enclavePriv: string; openText: string; requestText: string }

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex')
const priv = (hex: string) => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, Buffer.from(hex, 'hex')]), format: 'der', type: 'pkcs8' })

function vector(i: Input) {
  const agent = priv(i.agentPriv)
  const enclave = priv(i.enclavePriv)
  const agentPub = x25519Hex(createPublicKey(agent))
  const enclavePub = x25519Hex(createPublicKey(enclave))
  // The agent's side (agent/agentSession.ts) and the enclave's side (enclave/agent/agentSessions.ts).
  const sharedAgent = diffieHellman({ privateKey: agent, publicKey: x25519FromHex(enclavePub) })
  const sharedEnclave = diffieHellman({ privateKey: enclave, publicKey: x25519FromHex(agentPub) })
  const key = agentSessionKey(sharedAgent, i.openText, enclavePub)
  const keyEnclave = agentSessionKey(sharedEnclave, i.openText, enclavePub)
  if (!key.equals(keyEnclave)) throw new Error('agent and enclave derive different keys')
  const id = '0123456789abcdef0123456789abcdef'
  const mac = `s1:${id}:${createHmac('sha256', key).update(i.requestText, 'utf8').digest('hex')}`
  return { ...i, agentPub, enclavePub, shared: sharedAgent.toString('hex'), key: key.toString('hex'), sessionId: id, mac }
}

if (process.argv.includes('--stdin')) {
  const inputs = JSON.parse(readFileSync(0, 'utf8')) as Input[]
  process.stdout.write(`${JSON.stringify(inputs.map(vector))}\n`)
} else {
  const open = (n: number) =>
    JSON.stringify({ v: 1, agentId: `agt_${'ab'.repeat(20)}`, wallet: '0x00000000000000000000000000000000000000a1', nonce: `${n}`.repeat(32).slice(0, 32), issuedAt: 1_764_000_000_000 + n, op: 'openSession', x25519: '00'.repeat(32) })
  const inputs: Input[] = [
    { agentPriv: '11'.repeat(32), enclavePriv: '22'.repeat(32), openText: open(1), requestText: '{"v":1,"op":"signTypedData"}' },
    { agentPriv: 'a5'.repeat(31) + '07', enclavePriv: '5a'.repeat(31) + 'f0', openText: open(2), requestText: '{"reason":"café ☕ – 東京"}' },
    { agentPriv: '0f'.repeat(32), enclavePriv: 'f0'.repeat(32), openText: open(3), requestText: '' },
  ]
  const file = path.join(repoRoot, 'clients/python/tests/vectors/ts_session.json')
  writeFileSync(file, `${JSON.stringify({ vectors: inputs.map(vector) }, null, 2)}\n`)
  console.log(`wrote ${path.relative(repoRoot, file)}`)
}
