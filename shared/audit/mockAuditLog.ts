import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto'
import type { AuditCheckpoint, AuditEntry, AuditEntryBody } from './auditEntry.js'
import { auditCheckpointMessage } from './auditCheckpointMessage.js'
import { GENESIS_HASH, hashAuditEntry } from './hashAuditEntry.js'

/** Test double: a fixed-seed Ed25519 receipt key and a log built without AuditChain (for tests and tools). */
export type MockAuditLog = {
  entries: AuditEntry[]
  hashes: string[]
  checkpoints: AuditCheckpoint[]
  /** Raw 32-byte public key, hex. */
  publicKeyHex: string
  signer: (message: Uint8Array) => Uint8Array
  /** Appends one more entry (and optionally a checkpoint) to this log. */
  append: (body?: Partial<AuditEntryBody>, checkpoint?: boolean) => void
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export function mockEd25519Key(seedByte = 7): { privateKey: KeyObject; publicKeyHex: string } {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.alloc(32, seedByte)]),
    format: 'der',
    type: 'pkcs8',
  })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKeyHex: spki.subarray(12).toString('hex') }
}

export function mockAuditBody(i: number): AuditEntryBody {
  return {
    time: 1_767_225_600_000 + i * 1000,
    event: 'sign_allowed',
    wallet: '0x1111111111111111111111111111111111111111',
    agentId: `agt_${'ab'.repeat(20)}`,
    action: {
      kind: 'eip3009',
      primaryType: 'TransferWithAuthorization',
      chainId: 84532,
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      amount: String(10_000 + i),
      payTo: '0x2222222222222222222222222222222222222222',
      from: '0x1111111111111111111111111111111111111111',
      validAfter: 0,
      validBefore: 1_767_229_200,
      nonce: `0x${i.toString(16).padStart(64, '0')}`,
    },
    resourceUrl: `https://api.example.com/item/${i}`,
    reason: `buying item ${i}, "quoted", =1+1`,
    policy: { version: 3, hash: `0x${'cd'.repeat(32)}` },
    verdict: 'allow',
    rule: null,
    code: null,
    signedHash: `0x${'ef'.repeat(32)}`,
    requestId: `req_${i}`,
    ledger: [{ op: 'reserve', amount: String(10_000 + i), i }],
    stateVersion: i + 1,
  }
}

/**
 * `threads`: entries naming a wallet carry its thread (walletSeq 1, 2, … and walletPrev = the hash of that wallet's
 * previous entry, GENESIS_HASH for the first), built here independently of AuditChain. `wallets`: entry i names
 * wallets[i % wallets.length] (default: the one mock wallet).
 */
export function mockAuditLog(params: { n: number; checkpointEvery?: number; seedByte?: number; threads?: boolean; wallets?: string[] }): MockAuditLog {
  const { privateKey, publicKeyHex } = mockEd25519Key(params.seedByte)
  const signer = (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey))
  const log: MockAuditLog = { entries: [], hashes: [], checkpoints: [], publicKeyHex, signer, append }
  const threads = new Map<string, { walletSeq: number; hash: string }>()
  function append(body?: Partial<AuditEntryBody>, checkpoint = false): void {
    const seq = log.entries.length
    const prevHash = log.hashes[seq - 1] ?? GENESIS_HASH
    const wallet = params.wallets ? { wallet: params.wallets[seq % params.wallets.length] as string } : {}
    const entry: AuditEntry = { ...mockAuditBody(seq), ...wallet, ...body, seq, prevHash }
    const t = entry.wallet === null || !params.threads ? undefined : (threads.get(entry.wallet.toLowerCase()) ?? { walletSeq: 0, hash: GENESIS_HASH })
    if (t) Object.assign(entry, { walletSeq: t.walletSeq + 1, walletPrev: t.hash })
    const hash = hashAuditEntry(entry)
    if (t) threads.set((entry.wallet as string).toLowerCase(), { walletSeq: t.walletSeq + 1, hash })
    log.entries.push(entry)
    log.hashes.push(hash)
    if (!checkpoint) return
    const time = entry.time + 1
    const signature = signer(auditCheckpointMessage({ seq, head: hash, time }))
    log.checkpoints.push({ seq, head: hash, time, signature: `0x${Buffer.from(signature).toString('hex')}` })
  }
  const every = params.checkpointEvery ?? 0
  for (let i = 0; i < params.n; i++) append(undefined, every > 0 && (i + 1) % every === 0)
  return log
}
