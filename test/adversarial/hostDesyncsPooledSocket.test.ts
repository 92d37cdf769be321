import net from 'node:net'
import { type Hex, recoverTypedDataAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterEach, describe, expect, it } from 'vitest'
import { bursarAccount } from '../../agent/bursarAccount.js'
import { generateAgentKey } from '../../agent/generateAgentKey.js'
import { MOCK_RECEIPT_PUBLIC_KEY, type MockBursarHostReturnType, mockBursarHost } from '../../agent/mockBursarHost.js'
import { EIP3009_FIELDS } from '../../shared/schemas/eip3009Types.js'

/**
 * Attack: a host (or anything on the path) desynchronizes the SDK's keep-alive socket so that payment B reads the
 * answer to payment A: A's answer is sent twice, in one write or held back until B is on the wire. HTTP/1.1 has no
 * request ids, so the client cannot always tell; what must hold is that B never RETURNS A's signature (or anything
 * but the wallet's signature over B): bytes after a whole answer or on an idle socket retire the socket, and an
 * answer that does land on B fails the SDK's signature check. (session: false: the mock host speaks Ed25519 only,
 * and the proxy counts the first answer on a connection as A's.)
 */
const WALLET_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const
const wallet = privateKeyToAccount(WALLET_KEY).address
const agentKey = { ...generateAgentKey(), receiptPublicKey: MOCK_RECEIPT_PUBLIC_KEY }
const payment = (nonceByte: string) => ({
  domain: { name: 'USD Coin', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as Hex },
  types: { TransferWithAuthorization: EIP3009_FIELDS },
  primaryType: 'TransferWithAuthorization' as const,
  message: { from: wallet, to: '0x000000000000000000000000000000000000bEEF' as Hex, value: 10n, validAfter: 0n, validBefore: 2n ** 40n, nonce: `0x${nonceByte.repeat(32)}` as Hex },
})

let host: MockBursarHostReturnType | undefined
let server: net.Server | undefined
const sockets = new Set<net.Socket>()
afterEach(async () => {
  for (const x of sockets) x.destroy()
  sockets.clear()
  if (server) await new Promise((r) => server!.close(r))
  server = undefined
  await host?.stop()
  host = undefined
})

/** A proxy in front of the mock host that repeats the first answer on each connection, `when` it says. */
async function repeatingProxy(when: 'sameWrite' | 'whenNextRequestArrives'): Promise<{ url: string; conns: () => number }> {
  host = await mockBursarHost({ agentPublicKeys: [agentKey.publicKey], walletKey: WALLET_KEY })
  const target = new URL(host.url)
  let conns = 0
  server = net.createServer((client) => {
    conns++
    let firstAnswer: Buffer | undefined
    let requests = 0
    const up = net.connect(Number(target.port), target.hostname)
    sockets.add(client).add(up)
    client.on('error', () => up.destroy())
    up.on('error', () => client.destroy())
    client.on('data', (d: Buffer) => {
      requests++
      // B is on the wire: A's answer once more, before the host's answer to B.
      if (when === 'whenNextRequestArrives' && requests === 2 && firstAnswer) client.write(firstAnswer)
      up.write(d)
    })
    up.on('data', (d: Buffer) => {
      if (requests === 1 && !firstAnswer) {
        firstAnswer = Buffer.from(d)
        client.write(when === 'sameWrite' ? Buffer.concat([d, d]) : d)
        return
      }
      client.write(d)
    })
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, conns: () => conns }
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code?: string }) => e.code)

describe('a host desyncs the SDK’s pooled socket (hostDesyncsPooledSocket)', () => {
  it('A’s answer twice in one write: the socket is retired, B goes out on a fresh one and gets its own signature', async () => {
    const p = await repeatingProxy('sameWrite')
    const account = bursarAccount({ host: p.url, agentKey, wallet, timeoutMs: 5_000, session: false })
    const a = await account.signTypedData(payment('aa'))
    const b = await account.signTypedData(payment('bb'))
    expect(await recoverTypedDataAddress({ ...payment('aa'), signature: a })).toBe(wallet)
    expect(await recoverTypedDataAddress({ ...payment('bb'), signature: b })).toBe(wallet)
    expect(p.conns()).toBe(2)
  })

  it('A’s answer held back until B is on the wire: B is refused (response_signer_mismatch), never given A’s signature', async () => {
    const p = await repeatingProxy('whenNextRequestArrives')
    const account = bursarAccount({ host: p.url, agentKey, wallet, timeoutMs: 5_000, session: false })
    await account.signTypedData(payment('aa'))
    expect(await codeOf(account.signTypedData(payment('bb')))).toBe('response_signer_mismatch')
    // The next payment, on whatever socket is left, is the wallet's over what was asked or refused; never A's.
    const c = await account.signTypedData(payment('cc')).catch((e: { code?: string }) => e.code)
    if (typeof c === 'string' && c.startsWith('0x')) expect(await recoverTypedDataAddress({ ...payment('cc'), signature: c as Hex })).toBe(wallet)
    else expect(c).toBe('response_signer_mismatch')
  })
})
