/**
 * Local calendar facts for an instant in an IANA time zone, via
 * Intl.DateTimeFormat (formatters and day starts cached: this is hot).
 */
export type LocalTime = {
  /** YYYY-MM-DD in the zone. */
  date: string
  weekday: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'
  /** Minutes since local midnight (wall clock). */
  minuteOfDay: number
  /** The first millisecond of `date` in the zone (local midnight, or the first instant of the day if midnight is skipped). */
  dayStart: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const dayStarts = new Map<string, number>()
const WEEKDAYS: readonly LocalTime['weekday'][] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']

export function localTime(now: number, timeZone: string): LocalTime {
  const p = parts(now, timeZone)
  const key = `${timeZone}|${p.date}`
  let dayStart = dayStarts.get(key)
  if (dayStart === undefined) {
    dayStart = findDayStart(now, timeZone, p.date)
    if (dayStarts.size > 4096) dayStarts.clear()
    dayStarts.set(key, dayStart)
  }
  return { date: p.date, weekday: p.weekday, minuteOfDay: p.minuteOfDay, dayStart }
}

function parts(t: number, timeZone: string): Omit<LocalTime, 'dayStart'> {
  // Issue 18 (mem35): UTC in years 1970-9999 by arithmetic, the same parts as Intl's (localTime.test.ts) without ICU's ~4.7 MB of data pages.
  if (timeZone === 'UTC' && t >= 0 && t < 253402300800000) return { date: new Date(t).toISOString().slice(0, 10), weekday: WEEKDAYS[(Math.floor(t / 864e5) + 3) % 7]!, minuteOfDay: Math.floor(t / 6e4) % 1440 }
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  const o: Record<string, string> = {}
  for (const x of f.formatToParts(t)) o[x.type] = x.value
  return {
    date: `${o.year}-${o.month}-${o.day}`,
    // en-US short weekdays (Mon, Tue, …) lower-cased.
    weekday: WEEKDAYS.find((d) => d === o.weekday?.toLowerCase()) ?? 'mon',
    minuteOfDay: Number(o.hour) * 60 + Number(o.minute),
  }
}

/**
 * Binary search (on whole minutes: every real zone transition is on a minute)
 * for the first instant whose local date is `date`; a local day lasts at most
 * 26 h, so it starts within the 26 h before `now`.
 */
function findDayStart(now: number, timeZone: string, date: string): number {
  const MIN = 60_000
  let lo = Math.floor(now / MIN) - 26 * 60 // local date < `date` here
  let hi = Math.floor(now / MIN) // local date == `date` here
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (parts(mid * MIN, timeZone).date < date) lo = mid
    else hi = mid
  }
  return hi * MIN
}
