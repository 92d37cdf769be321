import type { Stack } from './startStack.js'
import { waitFor } from './startStack.js'

/** The host's gauge `name` from its /metrics (NaN when absent). */
async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = new RegExp(`^${name} (-?[0-9.e+]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : Number.NaN
}

/**
 * Resolves once the host has told its enclave (catchUp ack) that every audit entry up to the stored head as of this
 * call is stored (bursar_acked_audit_seq ≥ bursar_audit_head_seq): the enclave has then forgotten the blobs that ack
 * covers, and a hole below the head has been re-sent and stored. It replaces sleeping past the host's 2 s ack tick
 * (a stack started with BURSAR_TEST_ACK_EVERY_MS ticks faster; see host/enclave/ackEveryMs.ts).
 */
export async function waitAcked(stack: Stack, timeoutMs = 20_000): Promise<void> {
  const head = await gauge(stack.url, 'bursar_audit_head_seq')
  if (!(head >= 0)) throw new Error(`waitAcked: no stored audit head (bursar_audit_head_seq ${head})`)
  await waitFor(async () => (await gauge(stack.url, 'bursar_acked_audit_seq')) >= head, timeoutMs, `the host's ack through seq ${head}`, stack.logs)
}
