import { BaseError } from '../../shared/errors/base.js'
import { hostErrorHint } from './hostErrorHint.js'

/** Prints a result: JSON with --json, else the human lines. */
export function printResult(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`)
}

/** Runs a command body; errors become a one-line reason + what to do (or JSON on stdout with --json), exit 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const opts = args.find((a) => a && typeof a === 'object' && 'json' in (a as object)) as { json?: boolean } | undefined
    try {
      await fn(...args)
    } catch (err) {
      const base = err instanceof BaseError ? err : undefined
      const code = base?.code ?? 'error'
      const message = base?.shortMessage ?? (err as Error).message
      const hint = hostErrorHint(code)
      const hints = [...(base?.metaMessages ?? []), ...(hint ? [hint] : [])]
      if (opts?.json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hints.length ? { hints } : {}) } })}\n`)
      else {
        process.stderr.write(`error: ${message} (${code})\n`)
        if (hints.length) process.stderr.write(`${hints.join('\n')}\n`)
        else if (!base) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
      }
      process.exitCode = 1
    }
  }
}
