import { ownerActSigner } from '../../host/enclave/ownerActSigner.js'
import type { OwnerActBody } from '../../shared/protocol/messages.js'

type Msg = { type: string; message: string; signature: string }

/**
 * rt39: a signer for RelayLanes tests that holds each act until the test releases it, logging each as `name` gives it,
 * so what runs at once is exactly what the relay let in (no timing in the assertions). `answer`: an act answered at
 * once instead (e.g. one that applies). Held acts are refused when released.
 */
export function heldRelaySigner(name: (m: Msg) => string, answer: (m: Msg) => unknown = () => undefined) {
  const log: string[] = []
  const gates: Array<{ name: string; go: () => void }> = []
  const call = (async (m: Msg) => {
    const n = name(m)
    log.push(n)
    const now = answer(m)
    if (now !== undefined) return now
    await new Promise<void>((go) => gates.push({ name: n, go }))
    return { ok: false, error: { code: 'owner_act_stale', message: 'held then refused' } }
  }) as never
  /** Polls (generous deadline) until `what` holds; returns whether it does. */
  const until = async (what: () => boolean) => {
    for (const end = Date.now() + 20_000; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5))
    return what()
  }
  /** Lets the oldest held act (or the one logged as `n`) finish. */
  const release = (n?: string) => {
    const i = n === undefined ? 0 : gates.findIndex((g) => g.name === n)
    if (i >= 0) gates.splice(i, 1)[0]!.go()
  }
  /** Releases every held act, again and again, until all of `pending` settle. */
  const releaseAll = async (pending: Array<Promise<unknown>>) => {
    let done = false
    const all = Promise.all(pending).then(() => (done = true))
    while (!done) {
      for (const g of gates.splice(0)) g.go()
      await new Promise((r) => setTimeout(r, 1))
    }
    await all
  }
  /** Lets the relay place acts just sent: its own recovery of each body (one per body object), then a few ticks. */
  const placed = async (...bodies: OwnerActBody[]) => {
    await Promise.all(bodies.map((b) => ownerActSigner(b)))
    await new Promise((r) => setTimeout(r, 50))
  }
  return { log, call, until, release, releaseAll, placed }
}

/** A stranger's act naming made-up wallet `i` with a junk signature (governance would refuse it). */
export function junkAct(i: number): OwnerActBody {
  return { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${i.toString(16).padStart(40, '0')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` }
}
