import type { TimeWindow } from '../../../shared/schemas/policy.js'
import type { Check, EvalContext } from '../evalTypes.js'
import { checkResult } from './checkResult.js'
import { localTime } from '../localTime.js'

const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/** Passes when `now` falls in one of the windows: listed weekday, start ≤ local time < end (window or policy time zone). */
export function checkTimeWindows(windows: readonly TimeWindow[] | undefined, ctx: EvalContext): Check | null {
  if (!windows) return null
  let shown = ''
  const ok = windows.some((w) => {
    const l = w.timeZone ? localTime(ctx.now, w.timeZone) : ctx.local()
    shown = `${l.weekday} ${String(Math.floor(l.minuteOfDay / 60)).padStart(2, '0')}:${String(l.minuteOfDay % 60).padStart(2, '0')} ${w.timeZone ?? ctx.policy.timeZone}`
    return w.days.includes(l.weekday) && l.minuteOfDay >= toMin(w.start) && l.minuteOfDay < toMin(w.end)
  })
  return checkResult('timeWindows', ok, 'policy_outside_time_window', `local time ${shown} is ${ok ? 'inside' : 'outside'} the allowed windows`)
}
