import type { Check, EvalContext } from '../evalTypes.js'

/** At most perMinute requests in any 60 s and perHour in any hour, this one included (every evaluated request counts). */
export function checkVelocity(ctx: EvalContext): Check | null {
  const v = ctx.policy.velocity
  if (!v) return null
  const { ledger, agentId, now } = ctx
  for (const [label, limit, span] of [
    ['minute', v.perMinute, 60_000],
    ['hour', v.perHour, 3_600_000],
  ] as const) {
    if (limit === undefined) continue
    const n = ledger.requestsAfter(agentId, now - span)
    if (n >= limit)
      return { name: 'velocity', ok: false, code: 'policy_velocity_exceeded', message: `${n} requests in the last ${label}, limit ${limit}` }
  }
  return { name: 'velocity', ok: true, message: 'within request rate limits' }
}
