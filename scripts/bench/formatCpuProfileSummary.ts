import type { CpuProfileEntry, SummarizeCpuProfileReturnType } from './summarizeCpuProfile.js'

/** Formats a summary as two aligned text tables. */
export function formatCpuProfileSummary(title: string, s: SummarizeCpuProfileReturnType): string {
  const row = (e: CpuProfileEntry, withModule: boolean) =>
    `  ${e.busyPct.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}${withModule ? `  [${e.module}]` : ''}`
  return [
    `${title}: ${s.totalMs} ms profiled${s.span ? ` (from the first to the last sample in ${s.span}: the load, not start-up or setup)` : ''}, ${(100 - s.idlePct).toFixed(1)}% busy (${s.idlePct}% idle); % of busy time`,
    '  top self time by function:',
    ...s.top.map((e) => row(e, true)),
    '  self time by module / package:',
    ...s.modules.map((e) => row(e, false)),
  ].join('\n')
}
