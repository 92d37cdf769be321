import { Command, Option } from 'commander'
import { HOST_ENV } from '../lib/hostUrl.js'

/**
 * `bursar demo`: local chain + paid x402 API + an agent paying within policy. Uses the host given by --host (or
 * BURSAR_HOST_URL) and otherwise starts its own temporary one; it never picks up whatever answers on a port.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('local chain + x402 paid API + an agent paying within policy, end to end')
    .option('--json', 'print JSON')
    .option('--scheme <scheme>', 'what the paid API asks for: exact (EIP-3009), permit2 (exact via Permit2) or upto', 'exact')
    .addOption(new Option('--host <url>', 'use this running bursar host (default: start a temporary one; never a host you did not name)').env(HOST_ENV))
    .action(async (o: { json?: boolean; scheme: string; host?: string }) => {
      const { loadDevTools } = await import('../lib/devTools.js')
      const { checkHostUrl } = await import('../lib/hostUrl.js')
      const demo = await loadDevTools('demo', () => import('../../scripts/demo.js'))
      if (!demo) return
      const { DEMO_SCHEMES, runDemo } = demo
      if (!(DEMO_SCHEMES as readonly string[]).includes(o.scheme)) {
        process.stderr.write(`error: --scheme ${o.scheme}: one of ${DEMO_SCHEMES.join(', ')} (batch-settlement and auth-capture: not yet)\n`)
        process.exitCode = 2
        return
      }
      let host: string | undefined
      if (o.host) {
        const checked = checkHostUrl(o.host)
        if (!checked.ok) {
          process.stderr.write(`error: ${checked.message}\n`)
          process.exitCode = 2
          return
        }
        host = checked.url
      }
      process.exitCode = await runDemo({ json: !!o.json, scheme: o.scheme as (typeof DEMO_SCHEMES)[number], ...(host ? { host } : {}) })
    })
}
