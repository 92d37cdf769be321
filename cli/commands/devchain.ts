import { Command } from 'commander'

export function devchainCommand(): Command {
  return new Command('devchain')
    .description('keep a local chain with USDC, a paid x402 API, bursar and a funded wallet running; write a policy and an agent key')
    .action(() => {
      process.stderr.write('bursar devchain: not built yet in this version; use `bursar demo`\n')
      process.exitCode = 2
    })
}
