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
    return { ok: false, message: `--host ${value} is not a URL: write it with its scheme, e.g. http://${trimmed}` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // `127.0.0.1:8402` parses as scheme "127.0.0.1:"; `localhost:8402` as scheme "localhost:".
    return { ok: false, message: `--host ${value} has no http:// or https:// scheme: write it as http://${trimmed}` }
  }
  return { ok: true, url: trimmed }
}
