import { InvalidArgumentError, Option } from 'commander'

/** The one environment variable every CLI command reads for the bursar host (`--host` wins). */
export const HOST_ENV = 'BURSAR_HOST_URL'
/** Where `make sim` / `bursar sim` / `bursar devchain` listen by default. */
export const DEFAULT_HOST = 'http://127.0.0.1:8402'

/**
 * Checks a --host value before any request: it must be an http(s) URL (a bare `127.0.0.1:8402` would otherwise
 * surface later as a confusing "cannot reach" or "Not Found"). Returns it without trailing slashes.
 */
export function checkHostUrl(value: string): { ok: true; url: string } | { ok: false; message: string } {
  const trimmed = value.trim().replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return { ok: false, message: `--host ${value} has no http:// or https:// scheme: write it as http://${trimmed}` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // `127.0.0.1:8402` parses as scheme "127.0.0.1:"; `localhost:8402` as scheme "localhost:".
    return { ok: false, message: `--host ${value} has no http:// or https:// scheme: write it as http://${trimmed}` }
  }
  return { ok: true, url: trimmed }
}

/** commander argParser for --host: refuses a value without an http(s) scheme before any request is made. */
export function parseHostArg(value: string): string {
  const checked = checkHostUrl(value)
  if (!checked.ok) throw new InvalidArgumentError(checked.message)
  return checked.url
}

/**
 * The --host option every command shares: `--host <url>`, else BURSAR_HOST_URL, else http://127.0.0.1:8402 (the
 * make sim / devchain host); the value is checked (scheme) before use.
 */
export function hostOption(description = 'bursar host'): Option {
  return new Option('--host <url>', `${description} (env ${HOST_ENV})`).env(HOST_ENV).default(DEFAULT_HOST).argParser(parseHostArg)
}
