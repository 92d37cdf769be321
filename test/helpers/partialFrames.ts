/**
 * UNTRUSTED (test double): what the attacks on the enclave's connections and frame bytes share (tidy42: each file
 * wrote it): a real sim enclave with one paying agent, the partial frame an attacker holds, a reader of the refusal
 * frames it gets back, and the process's resident memory.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type net from 'node:net'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { expect } from 'vitest'
import { FrameReader } from '../../shared/protocol/FrameReader.js'
import { MAX_FRAME_BYTES, decodeFrameBody } from '../../shared/protocol/frame.js'
import { type ResponseFrame, ResponseFrameSchema } from '../../shared/protocol/messages.js'
import { type AgentSignOk, MaliciousHost, type TestAgent, eip3009, paymentPolicy, signAgentRequest, verifyPayment } from './maliciousHost.js'

export const MiB = 2 ** 20

/** A process's resident memory (VmRSS), MiB. */
export const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/** Bytes the enclave has not read yet on its accepted connections at `socketPath` (ss: their Recv-Q). */
export const unreadBytes = (socketPath: string) =>
  execFileSync('ss', ['-xn'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(` ${socketPath} `)).reduce((n, l) => n + Number(l.trim().split(/\s+/)[2] ?? 0), 0)

/** Whether `ss` (iproute2) is here to read those bytes; without it the test `name` says loudly that it is skipped. */
export function hasSs(name: string): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    console.warn(`*** SKIPPED ${name}: \`ss\` (iproute2) is not installed here: apt-get install iproute2 ***`)
    return false
  }
}

/** A frame header claiming the largest frame (MAX_FRAME_BYTES), then `held` bytes of its body: never finished. */
export function partialFrame(held: number): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt32BE(MAX_FRAME_BYTES)
  return Buffer.concat([header, Buffer.alloc(held, 0x61)])
}

/** Decodes every response frame the enclave sends on `socket` (its refusal, for an attacker) into `into`. */
export function readFrames(socket: net.Socket, into: ResponseFrame[]): void {
  const reader = new FrameReader()
  socket.on('data', (d: Buffer) => into.push(...reader.push(d).map((b) => ResponseFrameSchema.parse(decodeFrameBody(b)))))
}

export type PayingEnclave = { host: MaliciousHost; pid: number; wallet: Hex; agent: TestAgent; pay(): Promise<void> }

/**
 * The real sim enclave (with `env`) behind a MaliciousHost, bootstrapped, one wallet and one agent under
 * paymentPolicy(100 per payment, 50,000 a day), past the agent floor. `pay()`: one payment on the host's connection,
 * expected signed and viem-verified. The caller stops `host` (it is stopped here if the set-up fails).
 */
export async function payingEnclave(env: Record<string, string>): Promise<PayingEnclave> {
  const host = new MaliciousHost()
  host.env = env
  try {
    await host.startEnclave()
    expect((await host.bootstrapHonest()).ok).toBe(true)
    const owner = privateKeyToAccount(generatePrivateKey())
    const wallet = await host.createWallet(owner) // an owner act: governance decided it (its process is up)
    const { agent } = await host.setupAgent(owner, wallet, paymentPolicy({ perTx: '100', rolling24h: '50000' }))
    await host.waitAgentFloor()
    const pay = async () => {
      const req = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) })
      const r = await host.callSigner({ type: 'agentSign', request: req.request, signature: req.signature })
      expect(r.ok).toBe(true)
      expect(await verifyPayment(wallet, req.parsed, (r as { result: AgentSignOk }).result.signature)).toBe(true)
    }
    return { host, pid: host.proc!.pid!, wallet, agent, pay }
  } catch (e) {
    await host.stop()
    throw e
  }
}
