import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ed25519 } from '@noble/curves/ed25519.js'
import { type Hex, hashMessage, hashTypedData, keccak256, parseTransaction, serializeTransaction } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { agentIdFromPublicKey } from '../shared/identity/agentIdFromPublicKey.js'
import { auditCheckpointMessage } from '../shared/audit/auditCheckpointMessage.js'
import { hashAuditEntry } from '../shared/audit/hashAuditEntry.js'
import { type AgentRequest, AgentRequestSchema } from '../shared/schemas/agentRequest.js'

/**
 * Test double of the bursar host's `/v1/agent/sign` (NOT the real host): a
 * loopback HTTP server that checks the agent's Ed25519 signature over the
 * exact request text with @noble/curves (independent of the SDK's
 * node:crypto), parses it with AgentRequestSchema, and signs with a local
 * secp256k1 wallet key. `decide` scripts refusals.
 */
export type MockBursarHostParameters = {
  /** Raw Ed25519 public keys (hex) of the agents it accepts. */
  agentPublicKeys: string[]
  walletKey: Hex
  /** Return an HTTP answer to refuse (or to misbehave); undefined signs normally. */
  decide?: ((request: AgentRequest, index: number) => { status: number; body: unknown } | undefined) | undefined
  /** Sign with this key instead of walletKey (a lying host). */
  signWith?: Hex | undefined
  /** Rewrite the honest answer before it is sent (a tampering host); `signFor` signs any other request with the wallet. */
  tamper?:
    | ((answer: Record<string, unknown>, request: AgentRequest, index: number, signFor: (r: AgentRequest) => Promise<Record<string, unknown>>) =>
        Promise<Record<string, unknown>> | Record<string, unknown>)
    | undefined
}

export type MockBursarHostReturnType = {
  url: string
  /** Every accepted request: the exact text, its parse, and the answer status. */
  requests: { text: string; request: AgentRequest; status: number }[]
  stop: () => Promise<void>
}

/** Starts the fake host on 127.0.0.1 with a free port. */
export async function mockBursarHost(params: MockBursarHostParameters): Promise<MockBursarHostReturnType> {
  const agents = new Map(params.agentPublicKeys.map((k) => [agentIdFromPublicKey(Buffer.from(k, 'hex')), k]))
  const signer = privateKeyToAccount(params.signWith ?? params.walletKey)
  const requests: MockBursarHostReturnType['requests'] = []

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      return status
    }
    if (req.method !== 'POST' || req.url !== '/v1/agent/sign') return send(404, { code: 'not_found', message: 'no route' })
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const outer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: unknown; signature?: unknown }
    if (typeof outer.request !== 'string' || typeof outer.signature !== 'string' || !/^[0-9a-f]{128}$/.test(outer.signature))
      return send(400, { code: 'request_invalid', message: 'bad envelope' })
    const text = outer.request
    const claimed = (JSON.parse(text) as { agentId?: string }).agentId ?? ''
    const pub = agents.get(claimed)
    if (!pub) return send(401, { code: 'agent_not_found', message: 'unknown agent' })
    const ok = ed25519.verify(Buffer.from(outer.signature, 'hex'), Buffer.from(text, 'utf8'), Buffer.from(pub, 'hex'))
    if (!ok) return send(401, { code: 'agent_signature_invalid', message: 'bad agent signature' })
    const parsed = AgentRequestSchema.safeParse(JSON.parse(text))
    if (!parsed.success) return send(400, { code: 'request_invalid', message: parsed.error.message })
    const request = parsed.data
    const entry = { text, request, status: 0 }
    requests.push(entry)
    const scripted = params.decide?.(request, requests.length - 1)
    if (scripted) return (entry.status = send(scripted.status, scripted.body))
    const answer: Record<string, unknown> = await signFor(request, signer)
    const sent = params.tamper ? await params.tamper(answer, request, requests.length - 1, (r) => signFor(r, signer)) : answer
    entry.status = send(200, sent)
    return entry.status
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'internal_error', message: String(err) }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Seed of the mock's enclave receipt key (Ed25519): every mock host of a process shares one chain under it. */
const MOCK_RECEIPT_SEED = Buffer.alloc(32, 0x5a)
/** The mock's receipt key (raw hex): put it in the agent key (`receiptPublicKey`) so the SDK's receipt checks run. */
export const MOCK_RECEIPT_PUBLIC_KEY = Buffer.from(ed25519.getPublicKey(MOCK_RECEIPT_SEED)).toString('hex')
const chain = { seq: -1, head: `0x${'00'.repeat(32)}`, threads: new Map<string, { walletSeq: number; hash: string }>() }

/**
 * A receipt as the real enclave + host return it: the entry (`sign_allowed` of this request, this digest) appended to
 * the process-wide mock chain and a checkpoint at it, signed with the mock receipt key (@noble, not node:crypto).
 */
function receiptFor(request: AgentRequest, signedHash: Hex) {
  const w = request.wallet.toLowerCase()
  const t = chain.threads.get(w) ?? { walletSeq: 0, hash: `0x${'00'.repeat(32)}` }
  const entry = {
    seq: chain.seq + 1, prevHash: chain.head, time: Date.now(), event: 'sign_allowed', wallet: request.wallet, agentId: request.agentId,
    action: null, reason: null, policy: null, verdict: 'allow', rule: null, code: null, signedHash, requestId: request.nonce,
    ledger: [], stateVersion: chain.seq + 2, walletSeq: t.walletSeq + 1, walletPrev: t.hash,
  }
  const hash = hashAuditEntry(entry as never)
  chain.seq = entry.seq
  chain.head = hash
  chain.threads.set(w, { walletSeq: entry.walletSeq, hash })
  const checkpoint = { seq: entry.seq, head: hash, time: entry.time }
  const signature = `0x${Buffer.from(ed25519.sign(auditCheckpointMessage(checkpoint), MOCK_RECEIPT_SEED)).toString('hex')}`
  return { receipt: { seq: entry.seq, walletSeq: entry.walletSeq, entryHash: hash, stateVersion: entry.stateVersion, checkpoint: { ...checkpoint, signature } }, auditEntry: entry }
}

async function signFor(request: AgentRequest, signer: ReturnType<typeof privateKeyToAccount>) {
  if (request.op === 'signTypedData') {
    const td = withBigInts(request.typedData) as Parameters<typeof hashTypedData>[0]
    const signedHash = hashTypedData(td)
    return { signature: await signer.signTypedData(td), signedHash, ...receiptFor(request, signedHash) }
  }
  if (request.op === 'signMessage') {
    const m = 'text' in request.message ? request.message.text : { raw: request.message.raw as Hex }
    const signedHash = hashMessage(m)
    return { signature: await signer.signMessage({ message: m }), signedHash, ...receiptFor(request, signedHash) }
  }
  const t = request.transaction
  const tx = {
    type: 'eip1559' as const,
    chainId: t.chainId,
    to: t.to as Hex,
    nonce: t.nonce,
    gas: BigInt(t.gas),
    maxFeePerGas: BigInt(t.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas),
    ...(t.value !== undefined ? { value: BigInt(t.value) } : {}),
    ...(t.data !== undefined ? { data: t.data as Hex } : {}),
  }
  const serializedTransaction = await signer.signTransaction(tx)
  const p = parseTransaction(serializedTransaction)
  const signature = `0x${(p.r ?? '0x').slice(2).padStart(64, '0')}${(p.s ?? '0x').slice(2).padStart(64, '0')}${p.yParity ? '1c' : '1b'}`
  const signedHash = keccak256(serializeTransaction(tx))
  return { signature, serializedTransaction, signedHash, ...receiptFor(request, signedHash) }
}

/** Decimal strings back to bigints for uint/int fields, as the enclave would before hashing. */
function withBigInts(td: { types: Record<string, { name: string; type: string }[]>; primaryType: string; message: Record<string, unknown>; domain: Record<string, unknown> }) {
  const conv = (type: string, v: unknown): unknown => {
    if (/^u?int\d*$/.test(type) && typeof v === 'string') return BigInt(v)
    const fields = td.types[type]
    if (fields && v && typeof v === 'object')
      return Object.fromEntries(fields.map((f) => [f.name, conv(f.type, (v as Record<string, unknown>)[f.name])]))
    return v
  }
  return { ...td, message: conv(td.primaryType, td.message) }
}
