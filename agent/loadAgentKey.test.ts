import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519 } from '@noble/curves/ed25519.js'
import { describe, expect, it } from 'vitest'
import { AgentKeyError } from './errors.js'
import { generateAgentKey } from './generateAgentKey.js'
import { loadAgentKey } from './loadAgentKey.js'

describe('generateAgentKey / loadAgentKey', () => {
  it('generates a key whose public key and agentId are derived from the seed (checked with @noble)', () => {
    const key = generateAgentKey({ wallet: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', host: 'http://127.0.0.1:1' })
    expect(key.privateKey).toMatch(/^[0-9a-f]{64}$/)
    const pub = Buffer.from(ed25519.getPublicKey(Buffer.from(key.privateKey, 'hex'))).toString('hex')
    expect(key.publicKey).toBe(pub)
    const id = `agt_${createHash('sha256').update(Buffer.from(pub, 'hex')).digest('hex').slice(0, 40)}`
    expect(key.agentId).toBe(id)
    expect(key.wallet).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    expect(generateAgentKey().privateKey).not.toBe(key.privateKey)
  })

  it('loads from a file path and from an object', () => {
    const key = generateAgentKey()
    const dir = mkdtempSync(join(tmpdir(), 'bursar-agent-'))
    const path = join(dir, 'agent.json')
    writeFileSync(path, JSON.stringify(key))
    expect(loadAgentKey(path)).toEqual(key)
    expect(loadAgentKey({ ...key })).toEqual(key)
  })

  it('refuses inconsistent or malformed keys', () => {
    const a = generateAgentKey()
    const b = generateAgentKey()
    expect(() => loadAgentKey({ ...a, publicKey: b.publicKey })).toThrow(AgentKeyError)
    expect(() => loadAgentKey({ ...a, agentId: b.agentId })).toThrow(/agentId/)
    expect(() => loadAgentKey({ ...a, privateKey: 'zz' })).toThrow(AgentKeyError)
    expect(() => loadAgentKey('/nonexistent/agent.json')).toThrow(AgentKeyError)
    try {
      loadAgentKey({})
    } catch (e) {
      expect((e as AgentKeyError).code).toBe('agent_key_invalid')
    }
  })
})
