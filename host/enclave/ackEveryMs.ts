/**
 * The host's catchUp ack interval: 2 s. TEST HOOK (host only): BURSAR_TEST_ACK_EVERY_MS, an integer 50–2000, ticks
 * more often so a test waits for its ack (and a hole's re-send, two ticks later) in milliseconds, not seconds
 * (test/helpers/waitAcked.ts). Anything else is ignored, so the knob can only make acks more frequent.
 */
export function ackEveryMs(raw: string | undefined): number {
  const ms = Number(raw)
  return raw !== undefined && Number.isInteger(ms) && ms >= 50 && ms <= 2_000 ? ms : 2_000
}
