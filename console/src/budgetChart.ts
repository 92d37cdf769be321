import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { type BudgetView, formatUnits } from './spend.js'

const HOUR = 3600

/** Spend over the last 24 h against the caps (uPlot, a few KB, no CDN): stepped totals and flat cap lines. */
export function drawBudgetChart(el: HTMLElement, b: BudgetView, now: number): void {
  el.replaceChildren()
  const toUnits = (v: bigint) => Number(formatUnits(v, b.decimals))
  const start = Math.floor(now / 1000) - 24 * HOUR
  const end = Math.floor(now / 1000)
  const xs = [start, ...b.points.map((p) => Math.floor(p.t / 1000)), end]
  const rolling = [0, ...b.points.map((p) => toUnits(p.rolling)), toUnits(b.rolling)]
  const today = [0, ...b.points.map((p) => toUnits(p.today)), toUnits(b.today)]
  const series: uPlot.Series[] = [
    {},
    { label: 'rolling 24 h', stroke: '#1f6feb', fill: 'rgba(31,111,235,.08)', width: 2, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } },
    { label: 'calendar day', stroke: '#8250df', width: 1.5, paths: uPlot.paths.stepped?.({ align: 1 }), points: { show: false } },
  ]
  const data: (number | null)[][] = [xs, rolling, today]
  const cap = (label: string, v: string | undefined, color: string) => {
    if (v === undefined) return
    series.push({ label, stroke: color, dash: [6, 4], width: 1.5, points: { show: false } })
    data.push(xs.map(() => toUnits(BigInt(v))))
  }
  cap('rolling 24 h cap', b.cap.rolling24h, '#cf222e')
  cap('calendar-day cap', b.cap.calendarDay, '#bc4c00')
  new uPlot(
    {
      width: Math.min(640, el.parentElement?.clientWidth ?? 640),
      height: 170,
      title: `${b.symbol} spent vs caps (last 24 h)`,
      series,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
      axes: [{}, { size: 60 }],
    },
    data as uPlot.AlignedData,
    el,
  )
}
