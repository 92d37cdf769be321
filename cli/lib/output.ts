import { BaseError } from '../../shared/errors/base.js'

/** Prints a result: JSON with --json, else the human lines. */
export function printResult(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`)
}

/** Runs a command body; errors become a one-line reason + what to do (or JSON), exit 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const opts = args.find((a) => a && typeof a === 'object' && 'json' in (a as object)) as { json?: boolean } | undefined
    try {
      await fn(...args)
    } catch (err) {
      const e = err as BaseError
      const body = { error: { code: e.code ?? 'error', message: e.shortMessage ?? e.message } }
      if (opts?.json) process.stdout.write(`${JSON.stringify(body)}\n`)
      else {
        process.stderr.write(`error: ${body.error.message} (${body.error.code})\n`)
        if (e instanceof BaseError && e.metaMessages?.length) process.stderr.write(`${e.metaMessages.join('\n')}\n`)
        else if (err instanceof Error && !(err instanceof BaseError)) process.stderr.write(`${err.stack ?? ''}\n`)
      }
      process.exitCode = 1
    }
  }
}
