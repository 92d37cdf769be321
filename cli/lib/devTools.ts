/**
 * `bursar demo` and `bursar devchain` run a local chain (anvil), Circle's USDC artifacts and the x402 reference
 * server: development dependencies of the repository, not shipped with the npm package. Loads the module or says
 * what to do (exit 2) instead of a bare ERR_MODULE_NOT_FOUND.
 */
export async function loadDevTools<T>(command: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load()
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND') throw err
    process.stderr.write(
      `bursar ${command}: needs the development tools of the bursar repository (anvil, Circle's USDC artifacts, the x402 reference server), which the npm package does not install.\n` +
        `  missing: ${(e.message ?? '').split('\n')[0]}\n` +
        `  Run it from a clone of the bursar repository: npm ci && npx bursar ${command}\n`,
    )
    process.exitCode = 2
    return undefined
  }
}
