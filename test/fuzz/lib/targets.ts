/**
 * In-process fuzz targets: the parsers and decoders that see untrusted bytes
 * (frames, every host→enclave message, agent requests and the enclave's
 * decoding of them, every owner-act schema and its signature recovery, policy
 * files, attestation documents, KMS CMS answers and KMS-sealed blobs). Each
 * target names its seeds (valid inputs) and what counts as a typed refusal;
 * anything else thrown is a crash.
 */
import { generateKeyPairSync } from 'node:crypto'
import { decode, encode } from 'cborg'
import { privateKeyToAccount } from 'viem/accounts'
import { decryptCiphertextForRecipient } from '../../../enclave/kms/decryptCiphertextForRecipient.js'
import { decodeKmsBlob } from '../../../enclave/kms/decodeKmsBlob.js'
import { parseCiphertextForRecipient } from '../../../enclave/kms/parseCiphertextForRecipient.js'
import { verifyOwnerAct } from '../../../governance/verifyOwnerAct.js'
import { unsafeParseAttestationDoc } from '../../../shared/attestation/unsafeParseAttestationDoc.js'
import { verifyAttestation } from '../../../shared/attestation/verifyAttestation.js'
import { BaseError } from '../../../shared/errors/base.js'
import { OwnerActMessageSchemas, type OwnerActType } from '../../../shared/owner/ownerActTypes.js'
import { ownerTypedData } from '../../../shared/owner/ownerTypedData.js'
import { signOwnerAct } from '../../../shared/owner/signOwnerAct.js'
import { FrameReader } from '../../../shared/protocol/FrameReader.js'
import { decodeFrameBody, encodeFrame } from '../../../shared/protocol/frame.js'
import { RequestFrameSchema, ResponseFrameSchema } from '../../../shared/protocol/messages.js'
import { AgentRequestSchema } from '../../../shared/schemas/agentRequest.js'
import { EIP3009_FIELDS } from '../../../shared/schemas/eip3009Types.js'
import { parsePolicy, policyHash } from '../../../shared/schemas/policy.js'
import { buildEnvelopedData } from '../../kms/buildEnvelopedData.js'
import { MOCK_AGENT, mockPolicy } from '../../helpers/mockPolicy.js'
import { MOCK_PAY_TO, MOCK_PRIVATE_KEY, MOCK_REGISTRY, MOCK_USDC, MOCK_WALLET, mockSignRequest } from '../../helpers/mockSignRequest.js'
import { createTestMockNsm } from '../../vectors/createTestMockNsm.js'
import { loadNitroVectors } from '../../vectors/loadNitroVectors.js'
import type { Rng } from './mutate.js'

/** How a target's inputs are made: bytes (byte mutation + CBOR tree mutation) or JSON (tree mutation + text mutation). */
export type Target = {
  name: string
  /** Share of the run's inputs. */
  weight: number
  format: 'bytes' | 'json'
  seeds: unknown[]
  /** Runs one input; throws only for a crash (a typed refusal is caught and counted inside or by `typed`). */
  run(input: unknown, rng: Rng): void | Promise<void>
}

/** A typed refusal: one of the project's BaseError subclasses (stable code). */
export function isTyped(err: unknown): boolean {
  return err instanceof BaseError && typeof err.code === 'string' && err.code.length > 0
}

function expectTyped(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    if (!isTyped(err)) throw err
  }
}

async function expectTypedAsync(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (!isTyped(err)) throw err
  }
}

function asBytes(input: unknown): Uint8Array {
  return input instanceof Uint8Array ? input : new Uint8Array(0)
}

const AGENT = `agt_${'ab'.repeat(20)}`
const now = 1_700_000_000

function eip3009Request(primaryType = 'TransferWithAuthorization') {
  return mockSignRequest(
    {
      op: 'signTypedData',
      typedData: {
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
        types: { [primaryType]: EIP3009_FIELDS.map((f) => ({ ...f })) },
        primaryType,
        message: { from: MOCK_WALLET, to: MOCK_PAY_TO, value: '1000', validAfter: '0', validBefore: String(now + 600), nonce: `0x${'11'.repeat(32)}` },
      },
    },
    {
      resourceUrl: 'https://api.example.com/weather',
      reason: 'weather',
      requirements: { scheme: 'exact', network: 'eip155:84532', asset: MOCK_USDC, amount: '1000', payTo: MOCK_PAY_TO, maxTimeoutSeconds: 60, extra: { name: 'USDC', version: '2' } },
    },
  )
}

/** Valid agent requests of every op and the main kinds (EIP-3009, Permit, Permit2, generic typed data, ERC-20 calls, native value, messages). */
export function agentRequestSeeds(): unknown[] {
  const erc20 = (data: string) =>
    mockSignRequest({
      op: 'signTransaction',
      transaction: { chainId: 84532, to: MOCK_USDC, nonce: 0, gas: '60000', maxFeePerGas: '1000000000', maxPriorityFeePerGas: '1000000', data },
    })
  const addr = MOCK_PAY_TO.slice(2).toLowerCase().padStart(64, '0')
  return [
    eip3009Request(),
    eip3009Request('ReceiveWithAuthorization'),
    mockSignRequest({
      op: 'signTypedData',
      typedData: {
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: MOCK_USDC },
        types: {
          Permit: [
            { name: 'owner', type: 'address' },
            { name: 'spender', type: 'address' },
            { name: 'value', type: 'uint256' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
        },
        primaryType: 'Permit',
        message: { owner: MOCK_WALLET, spender: MOCK_PAY_TO, value: '5000', nonce: '0', deadline: String(now + 3600) },
      },
    }),
    mockSignRequest({
      op: 'signTypedData',
      typedData: {
        domain: { name: 'Permit2', chainId: 84532, verifyingContract: '0x000000000022D473030F116dDEE9F6B43aC78BA3' },
        types: {
          PermitTransferFrom: [
            { name: 'permitted', type: 'TokenPermissions' },
            { name: 'spender', type: 'address' },
            { name: 'nonce', type: 'uint256' },
            { name: 'deadline', type: 'uint256' },
          ],
          TokenPermissions: [
            { name: 'token', type: 'address' },
            { name: 'amount', type: 'uint256' },
          ],
        },
        primaryType: 'PermitTransferFrom',
        message: { permitted: { token: MOCK_USDC, amount: '700' }, spender: MOCK_PAY_TO, nonce: '1', deadline: String(now + 600) },
      },
    }),
    mockSignRequest({
      op: 'signTypedData',
      typedData: {
        domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
        types: {
          Person: [
            { name: 'name', type: 'string' },
            { name: 'wallets', type: 'address[]' },
          ],
          Mail: [
            { name: 'from', type: 'Person' },
            { name: 'to', type: 'Person[]' },
            { name: 'contents', type: 'string' },
            { name: 'tag', type: 'bytes32' },
          ],
        },
        primaryType: 'Mail',
        message: {
          from: { name: 'Cow', wallets: [MOCK_WALLET] },
          to: [{ name: 'Bob', wallets: [MOCK_PAY_TO, MOCK_USDC] }],
          contents: 'Hello',
          tag: `0x${'ab'.repeat(32)}`,
        },
      },
    }),
    erc20(`0xa9059cbb${addr}${(1234n).toString(16).padStart(64, '0')}`),
    erc20(`0x095ea7b3${addr}${(99n).toString(16).padStart(64, '0')}`),
    mockSignRequest({
      op: 'signTransaction',
      transaction: { type: 'eip1559', chainId: 1, to: MOCK_PAY_TO, nonce: 7, gas: '21000', maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1', value: '1000000000000000' },
    }),
    mockSignRequest({ op: 'signMessage', message: { text: 'hello bursar' } }),
    mockSignRequest({ op: 'signMessage', message: { raw: `0x${'de'.repeat(40)}` } }),
  ]
}

/** Valid owner-act messages, one or more per act type. */
export function ownerActSeeds(): Array<{ primaryType: OwnerActType; message: Record<string, unknown> }> {
  const wallet = MOCK_WALLET
  const agentId = MOCK_AGENT
  return [
    { primaryType: 'CreateWallet', message: { owner: wallet, label: 'w', nonce: `0x${'22'.repeat(32)}`, issuedAt: '1700000000000', auditChain: `0x${'00'.repeat(32)}` } },
    { primaryType: 'RegisterAgent', message: { wallet, agentId, agentPublicKey: `0x${'33'.repeat(32)}`, label: 'a', seq: '1' } },
    { primaryType: 'SetPolicy', message: { wallet, agentId, version: '2', policyHash: `0x${'44'.repeat(32)}`, seq: '2' } },
    { primaryType: 'RevokeAgent', message: { wallet, agentId, seq: '3' } },
    { primaryType: 'RevokePolicy', message: { wallet, agentId, seq: '4' } },
    { primaryType: 'FreezeAgent', message: { wallet, agentId, frozen: true, seq: '5' } },
    { primaryType: 'ResolvePending', message: { wallet, pendingId: 'pnd_1', digest: `0x${'55'.repeat(32)}`, approve: true, seq: '6' } },
    {
      primaryType: 'IssuePermit',
      message: { wallet, agentId, permitId: 'card-1', chainId: '84532', asset: MOCK_USDC, amount: '1000', payTo: MOCK_PAY_TO, host: 'api.example.com', expiresAt: '1700000600', exceedCaps: false, seq: '7' },
    },
    { primaryType: 'CreditBudget', message: { wallet, agentId, chainId: '84532', asset: MOCK_USDC, amount: '10', seq: '8' } },
    { primaryType: 'Resync', message: { wallet, seq: '9' } },
  ]
}

/** Valid policies: the mock policy and richer ones using every rule family. */
export function policySeeds(): unknown[] {
  const base = mockPolicy()
  const rich = {
    ...base,
    version: 3,
    expiresAt: 1_900_000_000_000,
    rules: [
      ...base.rules,
      { id: 'deny-x', effect: 'deny', payTo: { in: ['0x5B38Da6a701c568545dCfcB03FcB875f56beddC4'] } },
      {
        id: 'typed',
        effect: 'allow',
        kinds: ['typed_data'],
        typedData: [{ domainName: 'Ether Mail', primaryType: 'Mail' }],
      },
    ],
  }
  return [JSON.parse(JSON.stringify(base)), JSON.parse(JSON.stringify(rich))]
}

function requestFrameSeeds(agentReq: unknown[], acts: ReturnType<typeof ownerActSeeds>): unknown[] {
  const msgs: unknown[] = [
    { type: 'hello', protocolVersion: 1 },
    { type: 'loadState', snapshot: null },
    { type: 'loadState', snapshot: new Uint8Array(64).fill(7) },
    { type: 'replayEntries', entries: ['{"seq":0}'] },
    { type: 'finishLoad' },
    { type: 'attest', nonce: new Uint8Array(32).fill(1) },
    { type: 'getWallets' },
    ...agentReq.slice(0, 4).map((r) => ({ type: 'agentSign', request: JSON.stringify(r), signature: 'ab'.repeat(64) })),
    ...acts.slice(0, 4).map((a) => ({ type: 'ownerAct', primaryType: a.primaryType, message: JSON.stringify(a.message), signature: `0x${'cd'.repeat(65)}` })),
  ]
  return msgs.map((msg, i) => ({ id: i + 1, msg }))
}

type DecodeSignRequest = (p: { request: unknown; wallet: string; registry: unknown }) => unknown

/** The enclave's decoder (moving from enclave/sign to core/decode with issue 12: found wherever it lives). */
async function loadDecoder(): Promise<DecodeSignRequest> {
  for (const p of ['../../../core/decode/decodeSignRequest.js', '../../../enclave/sign/decodeSignRequest.js']) {
    try {
      return ((await import(p)) as { decodeSignRequest: DecodeSignRequest }).decodeSignRequest
    } catch {}
  }
  throw new TypeError('decodeSignRequest not found (core/decode or enclave/sign)')
}

/** Builds every target (async: attestation and CMS seeds are generated with real keys). */
export async function buildTargets(): Promise<Target[]> {
  const decodeSignRequest = await loadDecoder()
  const agentReq = agentRequestSeeds()
  const acts = ownerActSeeds()
  const policies = policySeeds()
  const frames = requestFrameSeeds(agentReq, acts)
  const targets: Target[] = []

  // Frames: the stream splitter + strict CBOR + the one request union, as the enclave reads them.
  targets.push({
    name: 'frame.stream',
    weight: 14,
    format: 'bytes',
    seeds: frames.map((f) => new Uint8Array(encodeFrame(f))),
    run(input, rng) {
      const bytes = asBytes(input)
      const reader = new FrameReader(1 << 20)
      expectTyped(() => {
        for (let at = 0; at < bytes.length; ) {
          const n = 1 + rng.int(Math.max(1, bytes.length))
          for (const body of reader.push(Buffer.from(bytes.subarray(at, at + n)))) {
            expectTyped(() => RequestFrameSchema.safeParse(decodeFrameBody(body)))
          }
          at += n
        }
      })
    },
  })
  targets.push({
    name: 'frame.body',
    weight: 12,
    format: 'bytes',
    seeds: frames.map((f) => encode(f)),
    run(input) {
      expectTyped(() => {
        const v = decodeFrameBody(asBytes(input))
        RequestFrameSchema.safeParse(v)
        ResponseFrameSchema.safeParse(v)
      })
    },
  })
  targets.push({
    name: 'message.schema',
    weight: 10,
    format: 'json',
    seeds: frames.map((f) => JSON.parse(JSON.stringify(f, (_k, v) => (v instanceof Uint8Array ? [...v] : v)))),
    run(input) {
      RequestFrameSchema.safeParse(input)
    },
  })

  // Agent requests: the schema, then the enclave's decoder for whatever passes it (must return a verdict, never throw).
  targets.push({
    name: 'agentRequest.decode',
    weight: 16,
    format: 'json',
    seeds: agentReq,
    run(input) {
      const parsed = AgentRequestSchema.safeParse(input)
      if (!parsed.success) return
      expectTyped(() => decodeSignRequest({ request: parsed.data, wallet: MOCK_WALLET, registry: MOCK_REGISTRY }))
      expectTyped(() => decodeSignRequest({ request: parsed.data, wallet: MOCK_PAY_TO, registry: [] }))
    },
  })

  // Owner acts: every act schema, the EIP-712 typed data built from a parsed act.
  targets.push({
    name: 'ownerAct.schema',
    weight: 12,
    format: 'json',
    seeds: acts,
    run(input) {
      const a = input as { primaryType?: unknown; message?: unknown } | null
      const type = (typeof a?.primaryType === 'string' && Object.hasOwn(OwnerActMessageSchemas, a.primaryType) ? a.primaryType : 'SetPolicy') as OwnerActType
      for (const t of [type, 'IssuePermit', 'CreditBudget'] as OwnerActType[]) {
        const parsed = OwnerActMessageSchemas[t].safeParse(a?.message ?? a)
        if (parsed.success) expectTyped(() => ownerTypedData(t, parsed.data as Record<string, unknown>))
      }
    },
  })
  // Signature recovery over mutated acts (slower: weight kept small).
  const owner = privateKeyToAccount(MOCK_PRIVATE_KEY)
  const signedActs = await Promise.all(acts.map((a) => signOwnerAct({ account: owner, primaryType: a.primaryType, message: a.message })))
  targets.push({
    name: 'ownerAct.verify',
    weight: 1,
    format: 'json',
    seeds: signedActs.map((b) => ({ ...b, message: JSON.parse(b.message) })),
    async run(input) {
      const b = (input ?? {}) as Record<string, unknown>
      const message = typeof b.message === 'string' ? b.message : JSON.stringify(b.message ?? null)
      await expectTypedAsync(() =>
        verifyOwnerAct({ primaryType: String(b.primaryType).slice(0, 200), message, signature: String(b.signature).slice(0, 400) }),
      )
    },
  })

  targets.push({
    name: 'policy.parse',
    weight: 12,
    format: 'json',
    seeds: policies,
    run(input) {
      expectTyped(() => policyHash(parsePolicy(input)))
    },
  })

  // Attestation: mock NSM documents (+ the real Nitro vectors when present).
  const t = createTestMockNsm()
  const mockDocs = [
    await t.nsm.attest({ nonce: new Uint8Array(32).fill(9), publicKey: new Uint8Array(44).fill(3) }),
    await t.nsm.attest({ userData: new Uint8Array(48).fill(5) }),
  ]
  const root = t.rootPem()
  const nitro = loadNitroVectors()
  const attSeeds = [...mockDocs, ...(nitro?.vectors.map((v) => v.bytes) ?? [])]
  targets.push({
    name: 'attestation.parse',
    weight: 8,
    format: 'bytes',
    seeds: attSeeds,
    run(input) {
      expectTyped(() => unsafeParseAttestationDoc(asBytes(input)))
    },
  })
  targets.push({
    name: 'attestation.verify',
    weight: 2,
    format: 'bytes',
    seeds: attSeeds,
    run(input) {
      const bytes = asBytes(input)
      expectTyped(() => verifyAttestation(bytes, { root, at: 'document', allowDebug: true }))
      if (nitro) expectTyped(() => verifyAttestation(bytes, { root: nitro.rootPem, at: 'document' }))
    },
  })

  // KMS: CiphertextForRecipient (CMS EnvelopedData, BER) and the KMS-sealed blob.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const cms = [
    buildEnvelopedData({ plaintext: new Uint8Array(32).fill(1), recipient: publicKey, encoding: 'primitive' }),
    buildEnvelopedData({ plaintext: new Uint8Array(32).fill(2), recipient: publicKey, encoding: 'constructed' }),
    buildEnvelopedData({ plaintext: new Uint8Array(32).fill(3), recipient: publicKey, encoding: 'constructed', chunkSize: 5 }),
  ]
  targets.push({
    name: 'kms.cms.parse',
    weight: 8,
    format: 'bytes',
    seeds: cms,
    run(input) {
      expectTyped(() => parseCiphertextForRecipient(asBytes(input)))
    },
  })
  targets.push({
    name: 'kms.cms.decrypt',
    weight: 1,
    format: 'bytes',
    seeds: cms,
    run(input) {
      expectTyped(() => decryptCiphertextForRecipient({ cms: asBytes(input), rsaPrivateKey: privateKey, expectedLength: 32 }))
    },
  })
  const blob = encode({
    v: 1,
    kind: 'kms',
    purpose: 'wallet-state',
    walletId: 'all',
    version: 3,
    dataKey: new Uint8Array(200).fill(4),
    iv: new Uint8Array(12).fill(5),
    ct: new Uint8Array(80).fill(6),
  })
  if (!decodeKmsBlob(blob)) throw new TypeError('kms blob seed does not decode')
  targets.push({
    name: 'kms.blob',
    weight: 4,
    format: 'bytes',
    seeds: [blob, encode(decode(blob))],
    run(input) {
      expectTyped(() => decodeKmsBlob(asBytes(input)))
    },
  })
  return targets
}
